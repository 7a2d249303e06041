// Package bearertest runs a small, in-process OAuth2 authorization server
// that issues JWT access tokens, so that code protected by bouncer can be
// tested, and run locally in a development mode, without a real identity
// provider.
//
// An [Issuer] serves the endpoints a resource server and its clients talk to:
// OpenID Connect discovery (and its RFC 8414 form), a JWKS with the public
// keys, and a token endpoint for the client-credentials grant. It also mints
// tokens directly with [Issuer.Mint], including tokens that are wrong on
// purpose: any claim or header can be set, changed or removed, and a token can
// be signed with a key the issuer never published, so that tests can prove a
// verifier rejects what it must.
//
// Faults that a verifier has to survive are switches on the issuer: key
// rotation ([Issuer.RotateKeys], [Issuer.RetireOldKeys]), an outage
// ([Issuer.SetDown]), a custom JWKS response ([Issuer.SetJWKSHandler]), and
// counters ([Issuer.JWKSFetches], [Issuer.DiscoveryFetches]) to check that
// keys are cached rather than fetched per request.
//
// Nothing here needs a *testing.T except [Issuer.MustMint], so the same
// issuer can back a local development server. It is never meant for
// production: keys live in memory, client secrets are plain strings, and
// anyone who can reach the listener can obtain tokens.
package bearertest
