// Package workload introduces bouncer's helpers for callers that prove who
// they are with a workload identity instead of a client-credentials token:
// a Kubernetes service-account token (package kubernetes), a SPIFFE
// JWT-SVID (package spiffe), a GitHub Actions or GitLab CI ID token
// (packages githubactions and gitlab).
//
// All of them are JWTs that package bearer verifies as it verifies any
// access token: the signature by the issuer's keys, iss, aud, exp. What
// each system adds is a trap that a plain configuration falls into, and
// each helper exists to close it:
//
//   - Kubernetes: inside a cluster the keys are read from the API server,
//     which wants the pod's own token and trusts only the cluster CA, both
//     rotated under the pod's feet; every pod holds a token for the API
//     server's own audience, which must never be accepted here; legacy
//     tokens from Secrets never expire.
//   - SPIFFE: keys come in trust bundles (a JWKS marking keys jwt-svid),
//     from a file or the Workload API, with no discovery; tokens often
//     carry no iss; sub is a SPIFFE ID that must belong to the trust
//     domain whose keys signed it.
//   - GitHub Actions and GitLab: one issuer signs tokens for every
//     repository it hosts, anyone's included, so a configuration that pins
//     no repository or project accepts strangers' workflows. The helpers
//     refuse to be built without one.
//
// Each helper returns a bearer.Config (set Logger, Cache and the rest on it
// before bearer.New; append to Validators, never replace them), reads its
// system's claims through bearer.Typed, and offers bearer.Policy values for
// routes. Decisions stay with package bearer: a helper configures a
// Verifier and adds checks, it never accepts a token bearer refused.
//
// In a bearer.MultiVerifier every trusted issuer vouches for the claims of
// its own tokens: a policy on a Kubernetes namespace or a SPIFFE ID is
// meant for routes whose verifier trusts only issuers of that kind.
package workload
