package bearer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// tokenFixture is one file of testdata/tokens: a real issuer's token shape
// and what Claims must make of it.
type tokenFixture struct {
	Header     map[string]any `json:"header"`
	Claims     map[string]any `json:"claims"`
	Normalised struct {
		Subject     string              `json:"subject"`
		Audience    []string            `json:"audience"`
		ClientID    string              `json:"client_id"`
		Scopes      []string            `json:"scopes"`
		Roles       []string            `json:"roles"`
		ClientRoles map[string][]string `json:"client_roles"`
		TenantID    string              `json:"tenant_id"`
		ID          string              `json:"id"`
	} `json:"normalised"`
}

// TestIssuerShapes re-signs each recorded issuer token with a test key,
// keeping every claim as the issuer shaped it except iss and the times,
// and checks what it normalises to.
func TestIssuerShapes(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/tokens/*.json")
	if len(files) < 7 {
		t.Fatalf("found %d token fixtures", len(files))
	}
	iss := newIssuer(t)
	type signed struct {
		fx  tokenFixture
		tok string
	}
	toks := map[string]signed{}
	for _, f := range files {
		var fx tokenFixture
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &fx); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		claims := fx.Claims
		for _, dflt := range []string{"sub", "aud", "client_id", "jti"} {
			if _, ok := claims[dflt]; !ok {
				claims[dflt] = nil // keep bearertest's defaults out of the issuer's shape
			}
		}
		claims["iss"] = iss.URL()
		now := time.Now().Unix()
		claims["iat"], claims["exp"] = now, now+300
		if _, ok := claims["nbf"]; ok {
			claims["nbf"] = now
		}
		opts := []bearertest.MintOption{bearertest.WithAlg("RS256")}
		for _, h := range []string{"typ", "x5t"} {
			opts = append(opts, bearertest.WithHeader(h, fx.Header[h])) // nil removes it, as the issuer sends it
		}
		toks[filepath.Base(f)] = signed{fx, iss.MustMint(t, claims, opts...)}
	}
	for name, s := range toks {
		t.Run(name, func(t *testing.T) {
			want := s.fx.Normalised
			v := newVerifier(t, iss, func(c *bearer.Config) { c.Audiences = want.Audience[:1] })
			c, err := v.Verify(bg, s.tok)
			if err != nil {
				t.Fatal(err)
			}
			checks := []struct {
				field     string
				got, want any
				equal     bool
			}{
				{"subject", c.Subject, want.Subject, c.Subject == want.Subject},
				{"audience", c.Audience, want.Audience, slices.Equal(c.Audience, want.Audience)},
				{"client id", c.ClientID, want.ClientID, c.ClientID == want.ClientID},
				{"scopes", c.Scopes, want.Scopes, slices.Equal(c.Scopes, want.Scopes)},
				{"roles", c.Roles, want.Roles, slices.Equal(c.Roles, want.Roles)},
				{"tenant", c.TenantID, want.TenantID, c.TenantID == want.TenantID},
				{"jti", c.ID, want.ID, c.ID == want.ID},
				{"client roles", c.ClientRoles, want.ClientRoles, equalRoles(c.ClientRoles, want.ClientRoles)},
			}
			for _, ch := range checks {
				if !ch.equal {
					t.Errorf("%s = %v; want %v", ch.field, ch.got, ch.want)
				}
			}
		})
	}
}

func equalRoles(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestScopeAndRoleSpellings(t *testing.T) {
	iss := newIssuer(t)
	cases := []struct {
		name   string
		claims map[string]any
		scopes []string
		roles  []string
	}{
		{"scope string", map[string]any{"scope": "a b c"}, []string{"a", "b", "c"}, nil},
		{"scope array", map[string]any{"scope": []string{"a", "b"}}, []string{"a", "b"}, nil},
		{"scp string", map[string]any{"scp": "a b"}, []string{"a", "b"}, nil},
		{"scp array", map[string]any{"scp": []string{"a"}}, []string{"a"}, nil},
		{"scope and scp merged", map[string]any{"scope": "a b", "scp": []string{"b", "c"}}, []string{"a", "b", "c"}, nil},
		{"roles and realm roles merged", map[string]any{"roles": []string{"x"}, "realm_access": map[string]any{"roles": []string{"y", "x"}}}, nil, []string{"x", "y"}},
		{"roles as one string", map[string]any{"roles": "x"}, nil, []string{"x"}},
	}
	var toks []string
	for _, tc := range cases {
		toks = append(toks, iss.MustMint(t, tc.claims))
	}
	v := newVerifier(t, iss)
	for i, tc := range cases {
		c, err := v.Verify(bg, toks[i])
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !slices.Equal(c.Scopes, tc.scopes) || !slices.Equal(c.Roles, tc.roles) {
			t.Errorf("%s: scopes %v roles %v; want %v %v", tc.name, c.Scopes, c.Roles, tc.scopes, tc.roles)
		}
	}
}
