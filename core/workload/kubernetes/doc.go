// Package kubernetes configures a bearer.Verifier for Kubernetes
// service-account tokens: the projected tokens a pod's kubelet mounts and
// rotates, requested for this API's audience, that the pod then presents
// as its bearer token.
//
// The cluster's API server is the issuer. From outside the cluster, or
// where the issuer is a public URL (EKS, GKE, AKS with an OIDC issuer),
// Config.Bearer discovers it like any issuer. From a pod of the same
// cluster, Config.InCluster reads the keys from the API server itself, the
// way every client in a pod talks to it: with the pod's mounted token as
// its bearer token and the mounted ca.crt as the only root, both read
// again when the kubelet rotates them, and the API server's discovery
// document must name the issuer the tokens carry.
//
// Every pod holds a token for the API server's own audience. Such a token
// is never accepted here, whatever Config.Audiences says: an API that took
// it could replay it to the API server with the caller's rights, and a
// token meant for this API would be one the API server takes too. Legacy
// tokens (from Secrets of type kubernetes.io/service-account-token, issuer
// kubernetes/serviceaccount, no expiry) are refused with a description
// that says so.
//
// Claims.ClientID is the caller's user name in the cluster,
// system:serviceaccount:<namespace>:<name>; ClaimsOf reads namespace,
// service account, pod and node from the token's kubernetes.io claim;
// RequireServiceAccount and RequireNamespace decide per route.
//
// A verifier of this kind checks the token, not the cluster's present
// state: a token bound to a pod stays valid until it expires even after
// the pod is deleted (the API server's TokenReview is what checks that).
// Ask for short-lived tokens (expirationSeconds: 600 to 3600).
package kubernetes
