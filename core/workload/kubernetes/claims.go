package kubernetes

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Claims are what a service-account token says of its caller in its
// kubernetes.io claim.
type Claims struct {
	Namespace      string
	ServiceAccount Object
	// Pod is the pod the token is bound to, and Node the node that pod
	// runs on (Kubernetes 1.30 and later); both are zero for a token
	// bound to no pod (from the TokenRequest API, kubectl create token).
	Pod  Object
	Node Object
	// Secret is the Secret a token is bound to, if it is; zero otherwise.
	Secret Object
}

// Object names a Kubernetes object by name and uid.
type Object struct {
	Name string `json:"name"`
	UID  string `json:"uid"`
}

// User is the caller's user name in the cluster,
// system:serviceaccount:<namespace>:<name>: the token's sub, and
// bearer.Claims.ClientID.
func (c Claims) User() string {
	return "system:serviceaccount:" + c.Namespace + ":" + c.ServiceAccount.Name
}

// tokenClaims is the part of a token ClaimsOf reads.
type tokenClaims struct {
	Kubernetes *struct {
		Namespace      string  `json:"namespace"`
		ServiceAccount *Object `json:"serviceaccount"`
		Pod            *Object `json:"pod"`
		Node           *Object `json:"node"`
		Secret         *Object `json:"secret"`
	} `json:"kubernetes.io"`
}

// ClaimsOf reads the kubernetes.io claim of a verified token (through
// bearer.Typed, so once per token). It fails for a token that has none,
// or one that does not name a namespace and a service account, which a
// Verifier configured by this package never accepts.
func ClaimsOf(c *bearer.Claims) (Claims, error) {
	t, err := bearer.Typed[tokenClaims](c)
	if err != nil {
		return Claims{}, fmt.Errorf("kubernetes: the token's claims: %w", err)
	}
	k := t.Kubernetes
	if k == nil || k.Namespace == "" || k.ServiceAccount == nil || k.ServiceAccount.Name == "" {
		return Claims{}, fmt.Errorf("kubernetes: the token names no namespace and service account in its kubernetes.io claim")
	}
	return Claims{Namespace: k.Namespace, ServiceAccount: *k.ServiceAccount, Pod: value(k.Pod), Node: value(k.Node), Secret: value(k.Secret)}, nil
}

func value(o *Object) Object {
	if o == nil {
		return Object{}
	}
	return *o
}

// tokenValidator refuses what a configuration of this package never
// accepts, whatever else the Verifier is told: a token the API server
// would take (it names one of apiAudiences), and a token whose sub is not
// the service account its kubernetes.io claim names.
func tokenValidator(apiAudiences []string) bearer.Validator {
	return bearer.ValidatorFunc(func(_ context.Context, c *bearer.Claims) error {
		if slices.ContainsFunc(c.Audience, func(a string) bool { return slices.Contains(apiAudiences, a) }) {
			return bearer.NewInvalidToken("the token is meant for the Kubernetes API server too: request a token whose audience is this API alone")
		}
		k, err := ClaimsOf(c)
		if err != nil {
			return bearer.NewInvalidToken("the token is not a Kubernetes service-account token: it names no namespace and service account")
		}
		if strings.Contains(k.Namespace, ":") || strings.Contains(k.ServiceAccount.Name, ":") || c.Subject != k.User() {
			return bearer.NewInvalidToken("the token's sub is not the service account its kubernetes.io claim names")
		}
		return nil
	})
}
