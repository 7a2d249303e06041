// Package conformance is the one test suite every bouncer adapter passes:
// the same requests, sent over a real loopback connection, must get the same
// status, WWW-Authenticate challenge and body from net/http, Gin, Echo,
// Fiber, or an adapter of your own.
//
// An adapter's test starts its framework with the routes below and calls
// Run, with a ServeTLS too for the cases whose client certificate comes
// from the TLS connection; an RPC front door (gRPC, Connect) sends the
// calls of Calls instead. The expected answers come from package bearer
// itself, so an adapter passes exactly when it adds, drops and changes
// nothing.
package conformance

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// The routes a server under test must serve, each with GET and POST; every
// handler answers 200 with Body of the claims it finds (none on the last
// two, when there is no token or nothing was checked):
const (
	// PathAuthenticated is guarded by the adapter's Authenticate
	// middleware.
	PathAuthenticated = "/authenticated"
	// PathScoped is guarded only by RequireScope(Scope).
	PathScoped = "/scoped"
	// PathPolicy is guarded only by Require(Policy).
	PathPolicy = "/policy"
	// PathOptional is guarded by the Authenticate middleware of a second
	// middleware value, made with the adapter's optional-authentication
	// option.
	PathOptional = "/optional"
	// PathSkipped is guarded by RequireScope(Scope) of a third middleware
	// value, made with the adapter's skip option (Skipper, Next, a
	// predicate…) set to skip exactly this path.
	PathSkipped = "/skipped"
)

// Metadata is the RFC 9728 document a server under test serves at
// Metadata.Path() with its adapter's metadata handler (GET and HEAD).
// Every adapter must serve it byte for byte as package bearer does.
var Metadata = &bearer.ResourceMetadata{
	Resource:               "http://localhost/country",
	AuthorizationServers:   []string{"https://sso.example.com/realms/services"},
	ScopesSupported:        []string{Scope},
	BearerMethodsSupported: []string{"header"},
	ResourceName:           "Conformance API",
}

// Scope is the scope PathScoped requires.
const Scope = "country.read"

// Policy guards PathPolicy: a combination, to show adapters pass policies
// through untouched.
var Policy = bearer.All(
	bearer.RequireAnyScope("country.write", Scope),
	bearer.RequireScopeOrAppPermission([]string{"customer.read"}, []string{"Customer.Read.All"}),
)

// Validator is run by the verifier under test: it refuses tokens whose
// suspended claim is true, a token that is wrong rather than one that
// lacks a permission, so every adapter must answer 401.
var Validator = bearer.ValidatorFunc(func(_ context.Context, c *bearer.Claims) error {
	if v, ok := c.Value("suspended"); ok && string(v) == "true" {
		return bearer.NewInvalidToken("the calling service is suspended")
	}
	return nil
})

// Audience is the audience the verifier under test accepts.
const Audience = "conformance-api"

// Body is what a protected handler writes, given the claims it read from
// the framework's own context and from the request's context.Context.
// Both must say what the verified claims say (each a copy of its own: see
// bearer.Claims).
//
// Then Body changes both, as a careless handler might: it appends to their
// lists, writes into them and sets their ClientID. None of it may reach
// the next request with the same token, whose Body the suite checks.
func Body(fromFramework, fromContext *bearer.Claims) []byte {
	out := struct {
		ClientID string   `json:"client_id"`
		Scopes   []string `json:"scopes"`
		Same     bool     `json:"same"`
	}{Same: same(fromFramework, fromContext)}
	if fromFramework != nil {
		out.ClientID = fromFramework.ClientID
		out.Scopes = slices.Clone(fromFramework.Scopes)
	}
	b, _ := json.Marshal(out)
	scribble(fromFramework)
	scribble(fromContext)
	return b
}

// same reports whether a and b both hold claims, the same ones.
func same(a, b *bearer.Claims) bool {
	if a == nil || b == nil {
		return false
	}
	ja, _ := json.Marshal(a) // the exported fields
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb) && string(a.Raw()) == string(b.Raw())
}

// scribble changes every field of c a handler could change.
func scribble(c *bearer.Claims) {
	if c == nil {
		return
	}
	c.ClientID, c.Subject = "scribbled", "scribbled"
	for _, list := range [][]string{c.Audience, c.Scopes, c.Roles} {
		if len(list) > 0 {
			list[0] = "scribbled"
		}
	}
	c.Scopes = append(c.Scopes, "scribbled")
	for _, roles := range c.ClientRoles {
		if len(roles) > 0 {
			roles[0] = "scribbled"
		}
	}
}
