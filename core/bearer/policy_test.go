package bearer_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
)

func TestPolicies(t *testing.T) {
	keycloak := &bearer.Claims{Scopes: []string{"country.read", "profile"}, Roles: []string{"offline_access"}, ClientRoles: map[string][]string{"country-api": {"admin"}}}
	entraApp := &bearer.Claims{Roles: []string{"Country.Read.All"}}
	cases := []struct {
		name   string
		policy bearer.Policy
		claims *bearer.Claims
		ok     bool
		scope  []string
	}{
		{"scope present", bearer.RequireScope("country.read"), keycloak, true, nil},
		{"all scopes required", bearer.RequireScope("country.read", "country.write"), keycloak, false, []string{"country.read", "country.write"}},
		{"any scope", bearer.RequireAnyScope("country.write", "country.read"), keycloak, true, nil},
		{"none of any", bearer.RequireAnyScope("a", "b"), keycloak, false, []string{"a", "b"}},
		{"role", bearer.RequireRole("offline_access"), keycloak, true, nil},
		{"missing role", bearer.RequireRole("admin"), keycloak, false, nil},
		{"client role", bearer.RequireClientRole("country-api", "admin"), keycloak, true, nil},
		{"client role of another client", bearer.RequireClientRole("account", "admin"), keycloak, false, nil},
		{"scope or app permission: app token", bearer.RequireScopeOrAppPermission([]string{"country.read"}, []string{"Country.Read.All"}), entraApp, true, nil},
		{"scope or app permission: delegated token", bearer.RequireScopeOrAppPermission([]string{"country.read"}, []string{"Country.Read.All"}), keycloak, true, nil},
		{"scope or app permission: neither", bearer.RequireScopeOrAppPermission([]string{"x"}, []string{"Y"}), entraApp, false, []string{"x"}},
		{"scopes are not roles", bearer.RequireScope("Country.Read.All"), entraApp, false, []string{"Country.Read.All"}},
		{"all", bearer.All(bearer.RequireScope("country.read"), bearer.RequireRole("offline_access")), keycloak, true, nil},
		{"all, one fails", bearer.All(bearer.RequireScope("country.read"), bearer.RequireScope("x")), keycloak, false, []string{"x"}},
		{"any, one holds", bearer.Any(bearer.RequireScope("x"), bearer.RequireRole("Country.Read.All")), entraApp, true, nil},
		{"any, none holds: scopes of all", bearer.Any(bearer.RequireScope("x"), bearer.RequireScope("y")), entraApp, false, []string{"x", "y"}},
		{"custom policy with a plain error is 403", bearer.PolicyFunc(func(*bearer.Claims) error { return errors.New("no") }), keycloak, false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := bearer.All(tc.policy).Authorize(tc.claims)
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			e := wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
			if e.Code != bearer.CodeInsufficientScope || !slices.Equal(e.Scope, tc.scope) {
				t.Fatalf("code %q scope %v; want scope %v", e.Code, e.Scope, tc.scope)
			}
		})
	}
}

func TestCheckReusesClaimsInContext(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	c, err := v.Check(bg, withAuth("Bearer "+iss.MustMint(t, map[string]any{"scope": "a"})))
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Check(bearer.NewContext(bg, c), withAuth(), bearer.RequireScope("a"))
	if err != nil || got != c {
		t.Fatalf("Check = %v, %v", got, err)
	}
	_, err = v.Check(bg, withAuth(), bearer.RequireScope("a"))
	wantRefusal(t, err, bearer.ErrMissingToken, 401)
	_, err = v.Check(bearer.NewContext(bg, &bearer.Claims{Scopes: []string{"a"}}), withAuth(), bearer.RequireScope("a"))
	wantRefusal(t, err, bearer.ErrMissingToken, 401)
}
