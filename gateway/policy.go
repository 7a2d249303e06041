package gateway

import (
	"slices"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// compilePolicy turns a route's policy into package bearer's policies:
// the gateway decides with bouncer's own checks, so its answers (the 403,
// its description, the scopes named in the challenge) are the
// middleware's. Every field set must hold, in the order of Policy's
// fields; nil means no requirement.
func compilePolicy(p Policy) bearer.Policy {
	var all []bearer.Policy
	if len(p.Scopes) > 0 {
		all = append(all, bearer.RequireScope(p.Scopes...))
	}
	if len(p.AnyScopes) > 0 {
		all = append(all, bearer.RequireAnyScope(p.AnyScopes...))
	}
	if len(p.Roles) > 0 {
		all = append(all, bearer.RequireRole(p.Roles...))
	}
	if len(p.AnyRoles) > 0 {
		all = append(all, bearer.RequireAnyRole(p.AnyRoles...))
	}
	for _, client := range sortedKeys(p.ClientRoles) {
		all = append(all, bearer.RequireClientRole(client, p.ClientRoles[client]...))
	}
	for _, client := range sortedKeys(p.AnyClientRoles) {
		all = append(all, bearer.RequireAnyClientRole(client, p.AnyClientRoles[client]...))
	}
	if len(p.Clients) > 0 {
		all = append(all, requireClient(p.Clients))
	}
	if s := p.ScopesOrAppPermissions; s != nil {
		all = append(all, bearer.RequireScopeOrAppPermission(s.Scopes, s.AppPermissions))
	}
	if len(p.Any) > 0 {
		var any []bearer.Policy
		for _, sub := range p.Any {
			if c := compilePolicy(sub); c != nil {
				any = append(any, c)
			}
		}
		all = append(all, bearer.Any(any...))
	}
	for _, sub := range p.All {
		if c := compilePolicy(sub); c != nil {
			all = append(all, c)
		}
	}
	switch len(all) {
	case 0:
		return nil
	case 1:
		return all[0]
	}
	return bearer.All(all...)
}

// requireClient grants access to the listed clients only.
func requireClient(clients []string) bearer.Policy {
	clients = slices.Clone(clients)
	return bearer.PolicyFunc(func(c *bearer.Claims) error {
		if c.ClientID != "" && slices.Contains(clients, c.ClientID) {
			return nil
		}
		return bearer.NewInsufficientScope("the token's client is not one of " + strings.Join(clients, ", "))
	})
}

// scopesOf lists the scopes the routes ask for, for the resource metadata.
func scopesOf(routes []*route) []string {
	var out []string
	for _, r := range routes {
		for _, s := range bearer.ScopesOf(r.policies...) {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	return out
}
