package bearer_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

func TestValidators(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t)
	now := clk.Now()
	custom := bearer.ValidatorFunc(func(ctx context.Context, c *bearer.Claims) error {
		if c.Subject == "blocked" {
			return errors.New("this subject is blocked")
		}
		return nil
	})
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.Now = clk.Now
		c.Validators = []bearer.Validator{bearer.RequireClaim("tenant"), bearer.ClaimOneOf("tenant", "acme", "globex"), bearer.MaxTokenAge(10 * time.Minute), custom}
	})
	ok := map[string]any{"tenant": "acme", "iat": now.Unix()}
	if _, err := v.Verify(bg, iss.MustMint(t, ok)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		desc   string
	}{
		{"missing claim", map[string]any{"iat": now.Unix()}, "lacks the tenant claim"},
		{"null claim", map[string]any{"tenant": nil, "iat": now.Unix()}, "lacks the tenant claim"},
		{"other value", map[string]any{"tenant": "initech", "iat": now.Unix()}, "tenant claim is not an accepted value"},
		{"not a string", map[string]any{"tenant": []string{"acme"}, "iat": now.Unix()}, "tenant claim is not an accepted value"},
		{"too old", map[string]any{"tenant": "acme", "iat": now.Add(-11 * time.Minute).Unix(), "exp": now.Add(time.Hour).Unix()}, "older than 10m0s"},
		{"plain error", map[string]any{"tenant": "acme", "iat": now.Unix(), "sub": "blocked"}, "this subject is blocked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if v, ok := tc.claims["tenant"]; ok && v == nil {
				tc.claims["tenant"] = json.RawMessage("null")
			}
			e := wantRefusal(t, verifyErr(v, iss.MustMint(t, tc.claims)), bearer.ErrClaim, 401)
			if e.Code != bearer.CodeInvalidToken || !strings.Contains(e.Description, tc.desc) {
				t.Fatalf("code %q description %q; want %q", e.Code, e.Description, tc.desc)
			}
		})
	}
	if _, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"a"}, Validators: []bearer.Validator{nil}}); err == nil {
		t.Fatal("a nil validator was accepted")
	}
}

// ClaimOneOf with one value accepts that value, compared exactly.
func TestClaimOneOfOneValue(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.Validators = []bearer.Validator{bearer.ClaimOneOf("azp", "billing")}
	})
	if _, err := v.Verify(bg, iss.MustMint(t, map[string]any{"azp": "billing"})); err != nil {
		t.Fatal(err)
	}
	for _, azp := range []any{"Billing", "billing ", "other", nil} {
		claims := map[string]any{}
		if azp != nil {
			claims["azp"] = azp
		}
		wantRefusal(t, verifyErr(v, iss.MustMint(t, claims)), bearer.ErrClaim, 401)
	}
}

func TestClaimMapping(t *testing.T) {
	iss := newIssuer(t)
	for _, tc := range []struct {
		name     string
		mapping  bearer.ClaimMapping
		claims   map[string]any
		scopes   []string
		roles    []string
		clientID string
		refused  bool
	}{
		{"defaults", bearer.ClaimMapping{}, map[string]any{"scope": "a b", "roles": []string{"r"}, "client_id": "c"}, []string{"a", "b"}, []string{"r"}, "c", false},
		{"Auth0 permissions", bearer.ClaimMapping{Scopes: []string{"permissions"}}, map[string]any{"scope": "openid", "permissions": []string{"read:x", "write:x"}}, []string{"read:x", "write:x"}, nil, "bearertest-client", false},
		{"groups as roles", bearer.ClaimMapping{Roles: []string{"groups"}}, map[string]any{"groups": []string{"ops", "dev"}, "roles": []string{"ignored"}}, nil, []string{"ops", "dev"}, "bearertest-client", false},
		{"Spring authorities with prefixes", bearer.ClaimMapping{Scopes: []string{"authorities"}, Roles: []string{"authorities"}, StripPrefixes: []string{"SCOPE_", "ROLE_"}}, map[string]any{"authorities": []string{"SCOPE_country.read", "ROLE_admin"}}, []string{"country.read", "admin"}, []string{"country.read", "admin"}, "bearertest-client", false},
		{"nested path", bearer.ClaimMapping{Roles: []string{"app.perms.roles"}}, map[string]any{"app": map[string]any{"perms": map[string]any{"roles": "one"}}}, nil, []string{"one"}, "bearertest-client", false},
		{"missing path", bearer.ClaimMapping{Roles: []string{"app.perms"}}, map[string]any{"app": "flat"}, nil, nil, "bearertest-client", false},
		{"client from another claim", bearer.ClaimMapping{ClientID: []string{"cid"}}, map[string]any{"cid": "svc"}, nil, nil, "svc", false},
		{"Spring client-credentials token", bearer.ClaimMapping{ClientIDFromSubject: true}, map[string]any{"sub": "messaging-client", "aud": []string{"messaging-client", "country-api"}, "client_id": nil}, nil, nil, "messaging-client", false},
		{"Spring user token", bearer.ClaimMapping{ClientIDFromSubject: true}, map[string]any{"sub": "alice", "aud": []string{"messaging-client", "country-api"}, "client_id": nil}, nil, nil, "", false},
		{"mapped scope of the wrong syntax", bearer.ClaimMapping{Scopes: []string{"permissions"}}, map[string]any{"permissions": "a\tb"}, nil, nil, "", true},
		{"mapped role of the wrong type", bearer.ClaimMapping{Roles: []string{"groups"}}, map[string]any{"groups": 7}, nil, nil, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, iss, func(c *bearer.Config) { c.Claims = tc.mapping })
			c, err := v.Verify(bg, iss.MustMint(t, tc.claims))
			if tc.refused {
				wantRefusal(t, err, bearer.ErrMalformed, 401)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Scopes, tc.scopes) || !slices.Equal(c.Roles, tc.roles) || c.ClientID != tc.clientID {
				t.Fatalf("scopes %v roles %v client %q; want %v %v %q", c.Scopes, c.Roles, c.ClientID, tc.scopes, tc.roles, tc.clientID)
			}
		})
	}
	if _, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"a"}, Claims: bearer.ClaimMapping{Roles: []string{"a..b"}}}); err == nil {
		t.Fatal("a malformed claim path was accepted")
	}
}

func TestRolePolicies(t *testing.T) {
	c := &bearer.Claims{Roles: []string{"reader"}, ClientRoles: map[string][]string{"api": {"read", "list"}}}
	for _, tc := range []struct {
		name   string
		policy bearer.Policy
		ok     bool
	}{
		{"any role, one held", bearer.RequireAnyRole("admin", "reader"), true},
		{"any role, none held", bearer.RequireAnyRole("admin", "writer"), false},
		{"all client roles held", bearer.RequireClientRole("api", "read", "list"), true},
		{"one client role missing", bearer.RequireClientRole("api", "read", "write"), false},
		{"any client role", bearer.RequireAnyClientRole("api", "write", "list"), true},
		{"no client role", bearer.RequireAnyClientRole("api", "write", "delete"), false},
		{"client roles of another client", bearer.RequireAnyClientRole("other", "read"), false},
		{"composed", bearer.All(bearer.RequireAnyRole("reader"), bearer.Any(bearer.RequireScope("x"), bearer.RequireClientRole("api", "read"))), true},
	} {
		err := tc.policy.Authorize(c)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if err != nil {
			var e *bearer.Error
			if !errors.As(err, &e) || !errors.Is(err, bearer.ErrInsufficientScope) || e.StatusCode() != 403 {
				t.Errorf("%s: refusal %v is not a 403 insufficient_scope *Error", tc.name, err)
			}
		}
	}
}
