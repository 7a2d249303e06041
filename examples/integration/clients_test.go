package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// With ALLOWED_CLIENTS, only those clients look countries up, whatever
// scopes another client holds; the refusal names no client; other routes
// are unchanged. Every example answers alike.
func TestAllowedClients(t *testing.T) {
	iss, err := bearertest.NewIssuer(
		bearertest.WithAudience("country-api"),
		bearertest.WithClient("country-client", "country-secret", "country.read"),
		bearertest.WithClient("other-reader", "other-secret", "country.read"),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	allowed := fetchToken(t, iss.TokenURL(), "country-client", "country-secret", "country.read")
	other := fetchToken(t, iss.TokenURL(), "other-reader", "other-secret", "country.read")
	cfg := trusting(iss)
	cfg.AllowedClients = []string{"country-client"}
	bases := startAll(t, cfg)
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			get(t, bases[i]+"/country/code/AUS", allowed).wantStatus(t, http.StatusOK)
			r := get(t, bases[i]+"/country/code/AUS", other)
			r.wantStatus(t, http.StatusForbidden)
			r.wantChallenge(t, `error="insufficient_scope"`)
			for _, name := range []string{"country-client", "other-reader"} {
				if c := r.header.Get("WWW-Authenticate"); strings.Contains(c, name) {
					t.Errorf("the refusal names %s: %s", name, c)
				}
			}
			get(t, bases[i]+"/api/data", other).wantStatus(t, http.StatusOK)
		})
	}
	t.Run("all answer alike", func(t *testing.T) {
		wantAlike(t, bases, "/country/code/AUS", "Bearer "+other)
	})
}
