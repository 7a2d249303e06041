package bearer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Policy decides whether verified claims grant access to a route. A refusal
// should be an *Error from NewInsufficientScope (the Require functions build
// them); any other error is treated as insufficient scope too.
//
// A Policy of your own is called with a copy of the claims of its own (see
// Claims); the built-in ones read them in place.
type Policy interface {
	Authorize(c *Claims) error
}

// PolicyFunc adapts a function to Policy.
type PolicyFunc func(c *Claims) error

// Authorize calls f(c).
func (f PolicyFunc) Authorize(c *Claims) error { return f(c) }

// scoped is a built-in policy: it reads the claims in place, never keeps or
// changes them, and knows the scopes it asks for, for ScopesOf.
type scoped struct {
	PolicyFunc
	scopes []string
}

// ScopesOf lists the scopes the built-in policies among policies ask for,
// once each, e.g. for ResourceMetadata.ScopesSupported. Policies of one's
// own name none.
func ScopesOf(policies ...Policy) []string {
	var out []string
	for _, p := range policies {
		if s, ok := p.(scoped); ok {
			out = append(out, s.scopes...)
		}
	}
	return dedupe(out)
}

// RequireScope grants access when the token carries every one of scopes.
func RequireScope(scopes ...string) Policy {
	return scoped{scopes: scopes, PolicyFunc: func(c *Claims) error {
		for _, s := range scopes {
			if !c.HasScope(s) {
				return insufficient(scopes, "the token lacks the scope %s", s)
			}
		}
		return nil
	}}
}

// RequireAnyScope grants access when the token carries at least one of
// scopes.
func RequireAnyScope(scopes ...string) Policy {
	return scoped{scopes: scopes, PolicyFunc: func(c *Claims) error {
		if holdsAny(c.Scopes, scopes) {
			return nil
		}
		return insufficient(scopes, "the token has none of the scopes %s", strings.Join(scopes, ", "))
	}}
}

// RequireRole grants access when the token carries every one of roles
// (Entra app roles, RFC 9068 roles, Keycloak realm roles).
func RequireRole(roles ...string) Policy {
	return scoped{PolicyFunc: func(c *Claims) error {
		for _, r := range roles {
			if !c.HasRole(r) {
				return insufficient(nil, "the token lacks the role %s", r)
			}
		}
		return nil
	}}
}

// RequireAnyRole grants access when the token carries at least one of
// roles.
func RequireAnyRole(roles ...string) Policy {
	return scoped{PolicyFunc: func(c *Claims) error {
		if holdsAny(c.Roles, roles) {
			return nil
		}
		return insufficient(nil, "the token has none of the roles %s", strings.Join(roles, ", "))
	}}
}

// RequireClientRole grants access when the token carries every one of
// roles for client in Keycloak's resource_access.
func RequireClientRole(client string, roles ...string) Policy {
	return scoped{PolicyFunc: func(c *Claims) error {
		for _, r := range roles {
			if !slices.Contains(c.ClientRoles[client], r) {
				return insufficient(nil, "the token lacks the role %s of client %s", r, client)
			}
		}
		return nil
	}}
}

// RequireAnyClientRole grants access when the token carries at least one of
// roles for client in Keycloak's resource_access.
func RequireAnyClientRole(client string, roles ...string) Policy {
	return scoped{PolicyFunc: func(c *Claims) error {
		if holdsAny(c.ClientRoles[client], roles) {
			return nil
		}
		return insufficient(nil, "the token has none of the roles %s of client %s", strings.Join(roles, ", "), client)
	}}
}

// RequireScopeOrAppPermission grants access when the token carries any of
// scopes (delegated tokens: scp) or any of appPermissions (app-only tokens:
// roles). Entra client-credentials tokens carry only roles, which is why
// this check exists; it mirrors Microsoft.Identity.Web's
// RequiredScopeOrAppPermission.
func RequireScopeOrAppPermission(scopes, appPermissions []string) Policy {
	return scoped{scopes: scopes, PolicyFunc: func(c *Claims) error {
		if holdsAny(c.Scopes, scopes) || holdsAny(c.Roles, appPermissions) {
			return nil
		}
		return insufficient(scopes, "the token has none of the scopes %v nor the app permissions %v", scopes, appPermissions)
	}}
}

// holdsAny reports whether held has any of wanted. (slices.ContainsFunc
// with a method value such as c.HasScope would allocate on every request.)
func holdsAny(held, wanted []string) bool {
	for _, w := range wanted {
		if slices.Contains(held, w) {
			return true
		}
	}
	return false
}

// All grants access when every policy does.
func All(policies ...Policy) Policy {
	return scoped{scopes: ScopesOf(policies...), PolicyFunc: func(c *Claims) error { return authorize(c, policies) }}
}

// Any grants access when at least one policy does. Its refusal names the
// scopes of all of them.
func Any(policies ...Policy) Policy {
	return scoped{scopes: ScopesOf(policies...), PolicyFunc: func(c *Claims) error {
		var scopes, why []string
		for _, p := range policies {
			err := authorizeOne(p, c)
			if err == nil {
				return nil
			}
			e := policyError(err)
			scopes = append(scopes, e.Scope...)
			why = append(why, e.Description)
		}
		return &Error{Code: CodeInsufficientScope, Err: ErrInsufficientScope, Scope: dedupe(scopes), Description: strings.Join(why, "; or ")}
	}}
}

func authorize(c *Claims, policies []Policy) error {
	for _, p := range policies {
		if err := authorizeOne(p, c); err != nil {
			return policyError(err)
		}
	}
	return nil
}

// authorizeOne asks p about c: a built-in policy reads c in place, any
// other gets a copy of its own, so that no policy of the application's can
// change the claims kept for the token's next requests.
func authorizeOne(p Policy, c *Claims) error {
	if _, ok := p.(scoped); ok {
		return p.Authorize(c)
	}
	return p.Authorize(c.Clone())
}

// policyError makes sure a custom policy's plain error still renders as a
// 403 insufficient_scope.
func policyError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInsufficientScope, Err: fmt.Errorf("%w: %w", ErrInsufficientScope, err), Description: "access denied by policy"}
}

// insufficient is a built-in policy's refusal. Its Scope is a copy: the
// application may change the error it gets, but not the policy.
func insufficient(scopes []string, format string, args ...any) *Error {
	e := newError(CodeInsufficientScope, ErrInsufficientScope, format, args...)
	e.Scope = slices.Clone(scopes)
	return e
}

func dedupe(s []string) []string {
	var out []string
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
