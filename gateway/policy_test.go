package gateway

import (
	"context"
	"net/http"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Each policy setting is package bearer's policy of the same name: the
// gateway's 403 (status, challenge, body) is the middleware's.
func TestPoliciesAreBearers(t *testing.T) {
	iss := newIssuer(t)
	for _, tc := range []struct {
		name   string
		policy Policy
		want   bearer.Policy
		claims map[string]any
	}{
		{"scopes", Policy{Scopes: []string{"a", "b"}}, bearer.RequireScope("a", "b"), map[string]any{"scope": "a"}},
		{"any-scopes", Policy{AnyScopes: []string{"a", "b"}}, bearer.RequireAnyScope("a", "b"), map[string]any{"scope": "c"}},
		{"roles", Policy{Roles: []string{"admin"}}, bearer.RequireRole("admin"), map[string]any{"roles": []string{"reader"}}},
		{"any-roles", Policy{AnyRoles: []string{"admin", "ops"}}, bearer.RequireAnyRole("admin", "ops"), nil},
		{"client-roles", Policy{ClientRoles: map[string][]string{"orders": {"write"}}}, bearer.RequireClientRole("orders", "write"),
			map[string]any{"resource_access": map[string]any{"orders": map[string]any{"roles": []string{"read"}}}}},
		{"any-client-roles", Policy{AnyClientRoles: map[string][]string{"orders": {"write", "admin"}}}, bearer.RequireAnyClientRole("orders", "write", "admin"), nil},
		{"scopes-or-app-permissions", Policy{ScopesOrAppPermissions: &ScopesOrAppPermissions{Scopes: []string{"orders.read"}, AppPermissions: []string{"Orders.Read.All"}}},
			bearer.RequireScopeOrAppPermission([]string{"orders.read"}, []string{"Orders.Read.All"}), nil},
		{"any", Policy{Any: []Policy{{Scopes: []string{"a"}}, {Roles: []string{"r"}}}}, bearer.Any(bearer.RequireScope("a"), bearer.RequireRole("r")), nil},
		{"all fields", Policy{Scopes: []string{"a"}, Roles: []string{"r"}}, bearer.All(bearer.RequireScope("a"), bearer.RequireRole("r")), map[string]any{"scope": "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := iss.MustMint(t, tc.claims)
			h := http.Header{"Authorization": {"Bearer " + tok}}
			v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			_, errGot := v.Check(context.Background(), plain{"GET", "/", h}, compilePolicy(tc.policy))
			_, errWant := v.Check(context.Background(), plain{"GET", "/", h}, tc.want)
			got, want := v.Response(errGot), v.Response(errWant)
			if errWant == nil || got.Status != want.Status || string(got.Body) != string(want.Body) || got.Header.Get("WWW-Authenticate") != want.Header.Get("WWW-Authenticate") {
				t.Fatalf("got %d %s %q; want %d %s %q", got.Status, got.Body, got.Header.Get("WWW-Authenticate"), want.Status, want.Body, want.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// clients: the client id must be one of the list.
	p := compilePolicy(Policy{Clients: []string{"billing"}})
	v, _ := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: discardLogger()})
	for client, ok := range map[string]bool{"billing": true, "shipping": false} {
		tok := iss.MustMint(t, map[string]any{"client_id": client})
		_, err := v.Check(context.Background(), plain{"GET", "/", http.Header{"Authorization": {"Bearer " + tok}}}, p)
		if (err == nil) != ok || (err != nil && v.Response(err).Status != 403) {
			t.Errorf("client %s: %v", client, err)
		}
	}
}
