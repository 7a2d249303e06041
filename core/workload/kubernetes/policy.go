package kubernetes

import (
	"slices"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// RequireServiceAccount grants access to the service account name of
// namespace alone.
func RequireServiceAccount(namespace, name string) bearer.Policy {
	why := "the caller is not the service account " + namespace + "/" + name
	return bearer.PolicyFunc(func(c *bearer.Claims) error {
		k, err := ClaimsOf(c)
		if err != nil || namespace == "" || name == "" || k.Namespace != namespace || k.ServiceAccount.Name != name {
			return bearer.NewInsufficientScope(why)
		}
		return nil
	})
}

// RequireNamespace grants access to every service account of the
// namespaces.
func RequireNamespace(namespaces ...string) bearer.Policy {
	why := "the caller's service account is in none of the namespaces " + strings.Join(namespaces, ", ")
	return bearer.PolicyFunc(func(c *bearer.Claims) error {
		k, err := ClaimsOf(c)
		if err != nil || !slices.Contains(namespaces, k.Namespace) {
			return bearer.NewInsufficientScope(why)
		}
		return nil
	})
}
