package kubernetes

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// LegacyIssuer is the iss of legacy service-account tokens, those the
// token controller stores in Secrets of type
// kubernetes.io/service-account-token: they carry no aud and no exp, so
// whoever copies one holds it for good. They are refused with
// legacyRefusal.
const LegacyIssuer = "kubernetes/serviceaccount"

const legacyRefusal = "the token is a legacy service-account token (from a Secret; issuer kubernetes/serviceaccount, no expiry): " +
	"present a projected token for this API's audience (a serviceAccountToken volume, or the TokenRequest API)"

// DefaultAPIServerAudiences are audiences Kubernetes API servers commonly
// accept (their --api-audiences default to the issuer, which kubeadm, kind
// and EKS set to these). Tokens naming one are refused, as tokens naming
// Config.APIServerAudiences or the issuer are.
var DefaultAPIServerAudiences = []string{
	"https://kubernetes.default.svc.cluster.local",
	"https://kubernetes.default.svc",
	"kubernetes.default.svc",
}

// Default paths and intervals of InCluster.
const (
	DefaultTokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	DefaultCAFile    = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
	// DefaultReread is how often at most the token and CA files are read
	// again on their own; a refusal the files may explain (401, an
	// unknown certificate authority) reads them again at once, at most
	// once a second.
	DefaultReread = time.Minute
)

// Config says which service-account tokens an API accepts.
type Config struct {
	// Issuer is the cluster's service-account issuer, as its tokens carry
	// it in iss: the API server's --service-account-issuer, e.g.
	// "https://kubernetes.default.svc.cluster.local", or on EKS
	// "https://oidc.eks.<region>.amazonaws.com/id/<id>". Bearer requires
	// it. InCluster reads it from the pod's own mounted token when it is
	// empty, and otherwise requires the two to agree.
	Issuer string

	// Audiences this API answers to: the audience callers request their
	// tokens for (the serviceAccountToken volume's audience, or
	// --audience of kubectl create token), e.g. "orders". Required. An
	// audience of the API server is refused (see APIServerAudiences).
	Audiences []string

	// APIServerAudiences are the API server's own audiences (its
	// --api-audiences), when they are not the issuer or one of
	// DefaultAPIServerAudiences. Tokens naming any of them, or the
	// issuer, or (in a pod) an audience of the pod's own token, are
	// refused: the API server would take them too.
	APIServerAudiences []string

	// APIServer is the API server's URL, for InCluster. Empty means
	// https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, as every
	// in-cluster client finds it.
	APIServer string

	// TokenFile and CAFile are the pod's token for the API server and the
	// cluster's CA certificates, for InCluster. Empty means
	// DefaultTokenFile and DefaultCAFile. Both are read again as the
	// kubelet rotates them (see DefaultReread).
	TokenFile string
	CAFile    string

	// Reread bounds how often the token and CA files are read again on
	// their own, for InCluster. Zero means DefaultReread; at least a
	// second.
	Reread time.Duration
}

// Bearer returns the bearer.Config for the cluster's tokens with the keys
// found by discovery from c.Issuer, which must be reachable: a public
// issuer (EKS, GKE, AKS, or a cluster whose --service-account-jwks-uri is
// served publicly). Inside the cluster use InCluster. Set the Verifier's
// other fields (Logger, Cache…) on the result before bearer.New; append to
// its Validators rather than replace them.
func (c Config) Bearer() (bearer.Config, error) {
	if c.Issuer == "" {
		return bearer.Config{}, errors.New("kubernetes: Config.Issuer is required (the API server's --service-account-issuer); inside the cluster, InCluster reads it from the pod's own token")
	}
	return c.config(c.Issuer, nil)
}

// config is the configuration both Bearer and InCluster build: issuer,
// audiences checked against the API server's, ClientID from sub, legacy
// tokens refused by name, the token validator.
func (c Config) config(issuer string, podAudiences []string) (bearer.Config, error) {
	if issuer == LegacyIssuer {
		return bearer.Config{}, errors.New("kubernetes: the issuer is kubernetes/serviceaccount, that of legacy tokens, which bouncer never accepts")
	}
	if u, err := url.Parse(issuer); err != nil || u.Scheme != "https" || u.Host == "" {
		return bearer.Config{}, fmt.Errorf("kubernetes: the issuer %q is not an https URL", issuer)
	}
	apiAudiences := slices.Concat([]string{issuer}, DefaultAPIServerAudiences, c.APIServerAudiences, podAudiences)
	switch {
	case len(c.Audiences) == 0:
		return bearer.Config{}, errors.New("kubernetes: Config.Audiences is required: the audience callers request their tokens for, this API alone (never the API server's)")
	case slices.Contains(c.Audiences, ""):
		return bearer.Config{}, errors.New("kubernetes: Config.Audiences holds an empty audience")
	}
	for _, a := range c.Audiences {
		if slices.Contains(apiAudiences, a) {
			return bearer.Config{}, fmt.Errorf("kubernetes: Config.Audiences names %s, an audience of the Kubernetes API server: every pod's own token would be accepted here, and tokens for this API by the API server", a)
		}
	}
	return bearer.Config{
		Issuer:         issuer,
		Audiences:      slices.Clone(c.Audiences),
		Claims:         bearer.ClaimMapping{ClientID: []string{"sub"}},
		RefusedIssuers: map[string]string{LegacyIssuer: legacyRefusal},
		Validators:     []bearer.Validator{tokenValidator(slices.Compact(apiAudiences))},
	}, nil
}
