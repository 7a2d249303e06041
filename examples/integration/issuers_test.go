package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/internal/oidcprovider"
)

// Two live issuers behind one API, on every framework: tokens of both are
// accepted, each named as its own issuer's; a third issuer's token is
// refused without the API ever contacting it.
func TestTwoIssuers(t *testing.T) {
	p := oidcprovider.Start(t)
	local := newIssuer(t)
	stranger := newIssuer(t)
	env := map[string]string{
		"ISSUER_URL":   p.Issuer + ", " + local.URL(),
		"AUDIENCE":     oidcprovider.Audience,
		"RESOURCE_URL": resourceURL,
	}
	cfg := configFromEnv(t, env)
	bases := startAll(t, cfg)
	fromProvider := p.Token(t, oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceES256, oidcprovider.ScopeCountryRead)
	fromLocal := fetchToken(t, local.TokenURL(), "country-client", "country-secret", "country.read")
	fromStranger := stranger.MustMint(t, map[string]any{"scope": "country.read"})
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			for _, tok := range []string{fromProvider, fromLocal} {
				r := get(t, bases[i]+"/country/code/AUS", tok)
				r.wantStatus(t, http.StatusOK)
				r.wantBody(t, ausJSON)
			}
			r := get(t, bases[i]+"/country/code/AUS", fromStranger)
			r.wantStatus(t, http.StatusUnauthorized)
			r.wantChallenge(t, `error_description="the token's issuer is not trusted here"`)
		})
	}
	for _, tok := range []string{fromProvider, fromLocal, fromStranger} {
		wantAlike(t, bases, "/country/code/AUS", "Bearer "+tok)
	}
	if n := stranger.DiscoveryFetches() + stranger.JWKSFetches(); n != 0 {
		t.Fatalf("the untrusted issuer was contacted %d times", n)
	}
	// One fetch per trusted issuer and example, none per request.
	if d := local.DiscoveryFetches(); d != len(examples) {
		t.Errorf("%d discovery fetches from %d examples", d, len(examples))
	}
	// The metadata names both issuers.
	r := get(t, bases[0]+"/.well-known/oauth-protected-resource", "")
	if !strings.Contains(r.body, `"authorization_servers":["`+p.Issuer+`","`+local.URL()+`"]`) {
		t.Errorf("metadata %s", r.body)
	}
}

// An Entra-shaped multi-tenant issuer: the template in ISSUER_URL, an
// allow-list in TENANTS.
func TestEntraMultiTenant(t *testing.T) {
	const allowed, other = "8a0671e2-3a30-4d30-9cb9-ad709b9c744a", "00000000-0000-0000-0000-000000000009"
	entra, err := bearertest.NewIssuer(bearertest.WithTenants(), bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(entra.Close)
	env := map[string]string{"ISSUER_URL": entra.URL(), "TENANTS": allowed, "AUDIENCE": "country-api", "RESOURCE_URL": resourceURL}
	cfg := configFromEnv(t, env)
	bases := startAll(t, cfg)
	ok := entra.MustMint(t, map[string]any{"tid": allowed, "scope": "country.read"})
	offList := entra.MustMint(t, map[string]any{"tid": other, "scope": "country.read"})
	forged := entra.MustMint(t, map[string]any{"tid": allowed, "iss": entra.TenantIssuer(other), "scope": "country.read"})
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			get(t, bases[i]+"/country/code/AUS", ok).wantStatus(t, http.StatusOK)
			get(t, bases[i]+"/country/code/AUS", offList).wantChallenge(t, `error_description="the token's tenant is not among the tenants this API accepts"`)
			get(t, bases[i]+"/country/code/AUS", forged).wantStatus(t, http.StatusUnauthorized)
		})
	}
	for _, tok := range []string{ok, offList, forged} {
		wantAlike(t, bases, "/country/code/AUS", "Bearer "+tok)
	}
}
