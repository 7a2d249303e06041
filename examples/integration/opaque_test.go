package integration

import (
	"net/http"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/examples/internal/oidcprovider"
)

// Opaque tokens from a real issuer, judged by its introspection endpoint,
// through every framework: accepted, refused for scope, refused once
// revoked (within the cache's maximum age), and 503 when the endpoint is
// unreachable.
func TestOpaqueTokens(t *testing.T) {
	p := oidcprovider.Start(t)
	env := map[string]string{
		"ISSUER_URL":                  p.Issuer,
		"AUDIENCE":                    oidcprovider.Audience,
		"RESOURCE_URL":                resourceURL,
		"INTROSPECTION_CLIENT_ID":     oidcprovider.IntrospectorClientID,
		"INTROSPECTION_CLIENT_SECRET": oidcprovider.IntrospectorClientSecret,
		"INTROSPECTION_MAX_AGE":       "1s",
	}
	cfg := configFromEnv(t, env)
	bases := startAll(t, cfg)
	reader := p.Token(t, oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceOpaque, oidcprovider.ScopeCountryRead)
	limited := p.Token(t, oidcprovider.LimitedClientID, oidcprovider.LimitedClientSecret, oidcprovider.ResourceOpaque, oidcprovider.ScopeCustomerRead)
	if got := p.Introspect(t, reader); got["active"] != true {
		t.Fatalf("the issuer's own answer: %v", got)
	}
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			r := get(t, bases[i]+"/country/code/AUS", reader)
			r.wantStatus(t, http.StatusOK)
			r.wantBody(t, ausJSON)
			r = get(t, bases[i]+"/api/data", reader)
			checkTokenInfo(t, r.body, oidcprovider.CountryClientID, []string{oidcprovider.Audience}, []string{oidcprovider.ScopeCountryRead})
			get(t, bases[i]+"/country/code/AUS", limited).wantStatus(t, http.StatusForbidden)
			get(t, bases[i]+"/country/code/AUS", "not-a-known-token").wantStatus(t, http.StatusUnauthorized)
		})
	}
	for _, tok := range []string{reader, limited, "not-a-known-token"} {
		wantAlike(t, bases, "/country/code/AUS", "Bearer "+tok)
	}

	t.Run("revoked", func(t *testing.T) {
		p.Revoke(t, reader)
		time.Sleep(1100 * time.Millisecond) // past INTROSPECTION_MAX_AGE
		for i, ex := range examples {
			t.Run(ex.name, func(t *testing.T) {
				r := get(t, bases[i]+"/country/code/AUS", reader)
				r.wantStatus(t, http.StatusUnauthorized)
				r.wantChallenge(t, `error="invalid_token"`, `error_description="the issuer says the token is not active"`)
			})
		}
	})

	t.Run("introspection unreachable", func(t *testing.T) {
		down := cfg
		down.Introspection.URL = "http://127.0.0.1:1/token/introspection"
		downBases := startAll(t, down)
		fresh := p.Token(t, oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceOpaque, oidcprovider.ScopeCountryRead)
		for i, ex := range examples {
			t.Run(ex.name, func(t *testing.T) {
				r := get(t, downBases[i]+"/country/code/AUS", fresh)
				r.wantStatus(t, http.StatusServiceUnavailable)
				if r.header.Get("Retry-After") == "" {
					t.Error("no Retry-After")
				}
			})
		}
		wantAlike(t, downBases, "/country/code/AUS", "Bearer "+fresh)
	})
}
