package integration

import (
	"net/http"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// The tests in this file run each example against an in-process issuer
// with two clients: one that may read countries, one that may not.

func newIssuer(t *testing.T) *bearertest.Issuer {
	t.Helper()
	iss, err := bearertest.NewIssuer(
		bearertest.WithAudience("country-api"),
		bearertest.WithClient("country-client", "country-secret", "country.read customer.read"),
		bearertest.WithClient("limited-client", "limited-secret", "customer.read"),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	return iss
}

// resourceURL is the examples' resource identifier in these tests: the
// same for all, so that their challenges, which name its metadata, are
// alike.
const resourceURL = "http://localhost:8091"

// trusting is the configuration of an example whose issuer is iss.
func trusting(iss *bearertest.Issuer) countryapi.Config {
	return countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{"country-api"}, ResourceURL: resourceURL}
}

func TestCountry(t *testing.T) {
	iss := newIssuer(t)
	reader := fetchToken(t, iss.TokenURL(), "country-client", "country-secret", "country.read")
	limited := fetchToken(t, iss.TokenURL(), "limited-client", "limited-secret", "customer.read")
	otherAudience := iss.MustMint(t, map[string]any{"aud": "other-api", "scope": "country.read"})

	bases := startAll(t, trusting(iss))
	for i, ex := range examples {
		base := bases[i]
		t.Run(ex.name, func(t *testing.T) {
			t.Run("with scope", func(t *testing.T) {
				r := get(t, base+"/country/code/AUS", reader)
				r.wantStatus(t, http.StatusOK)
				r.wantBody(t, ausJSON)
			})
			t.Run("lower-case code", func(t *testing.T) {
				r := get(t, base+"/country/code/aus", reader)
				r.wantStatus(t, http.StatusOK)
				r.wantBody(t, ausJSON)
			})
			t.Run("unknown code", func(t *testing.T) {
				r := get(t, base+"/country/code/XYZ", reader)
				r.wantStatus(t, http.StatusNotFound)
				r.wantBody(t, `{"error":"not_found","error_description":"no country has this code"}`)
			})
			t.Run("without scope", func(t *testing.T) {
				r := get(t, base+"/country/code/AUS", limited)
				r.wantStatus(t, http.StatusForbidden)
				r.wantChallenge(t, `error="insufficient_scope"`, `scope="country.read"`)
			})
			t.Run("no token", func(t *testing.T) {
				r := get(t, base+"/country/code/AUS", "")
				r.wantStatus(t, http.StatusUnauthorized)
				want := `Bearer realm="country-api", resource_metadata="` + resourceURL + `/.well-known/oauth-protected-resource"`
				if c := r.header.Get("WWW-Authenticate"); c != want {
					t.Errorf(`WWW-Authenticate = %q, want %s`, c, want)
				}
			})
			t.Run("other audience", func(t *testing.T) {
				r := get(t, base+"/country/code/AUS", otherAudience)
				r.wantStatus(t, http.StatusUnauthorized)
				r.wantChallenge(t, `error="invalid_token"`)
			})
		})
	}
	t.Run("all answer alike", func(t *testing.T) {
		for _, c := range []struct{ name, path, token string }{
			{"with scope", "/country/code/AUS", reader},
			{"unknown code", "/country/code/XYZ", reader},
			{"without scope", "/country/code/AUS", limited},
			{"no token", "/country/code/AUS", ""},
			{"other audience", "/country/code/AUS", otherAudience},
			{"resource metadata", "/.well-known/oauth-protected-resource", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				auth := ""
				if c.token != "" {
					auth = "Bearer " + c.token
				}
				wantAlike(t, bases, c.path, auth)
			})
		}
	})
}

func TestAPIData(t *testing.T) {
	iss := newIssuer(t)
	// No scope asked: the issuer grants all of the client's.
	country := fetchToken(t, iss.TokenURL(), "country-client", "country-secret")
	limited := fetchToken(t, iss.TokenURL(), "limited-client", "limited-secret")
	bare := iss.MustMint(t, map[string]any{"sub": "bare-client"})

	bases := startAll(t, trusting(iss))
	for i, ex := range examples {
		base := bases[i]
		t.Run(ex.name, func(t *testing.T) {
			t.Run("echoes the token", func(t *testing.T) {
				r := get(t, base+"/api/data", country)
				r.wantStatus(t, http.StatusOK)
				checkTokenInfo(t, r.body, "country-client", []string{"country-api"}, []string{"country.read", "customer.read"})
			})
			t.Run("any scope will do", func(t *testing.T) {
				r := get(t, base+"/api/data", limited)
				r.wantStatus(t, http.StatusOK)
				checkTokenInfo(t, r.body, "limited-client", []string{"country-api"}, []string{"customer.read"})
			})
			t.Run("no scope at all", func(t *testing.T) {
				r := get(t, base+"/api/data", bare)
				r.wantStatus(t, http.StatusOK)
				r.wantBody(t, `{"client_id":"bare-client","audience":["country-api"],"scopes":[]}`)
			})
			t.Run("no token", func(t *testing.T) {
				get(t, base+"/api/data", "").wantStatus(t, http.StatusUnauthorized)
			})
		})
	}
}

func TestHealthz(t *testing.T) {
	up := newIssuer(t)
	down := newIssuer(t)
	// Down before the server starts, so that it never held the keys.
	down.SetDown(true)

	upBases, downBases := startAll(t, trusting(up)), startAll(t, trusting(down))
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			t.Run("open", func(t *testing.T) {
				r := get(t, upBases[i]+"/healthz", "")
				r.wantStatus(t, http.StatusOK)
				r.wantBody(t, `{"status":"ok","issuer_ready":true}`)
			})
			t.Run("issuer down is not a liveness failure", func(t *testing.T) {
				r := get(t, downBases[i]+"/healthz", "")
				r.wantStatus(t, http.StatusOK)
				r.wantBody(t, `{"status":"ok","issuer_ready":false}`)
			})
		})
	}
}

// TestIssuerDown checks the answer to a token that cannot be checked
// because the issuer is unreachable: 503 with Retry-After, alike on every
// example, rather than a 401 that would make the client drop a good token.
func TestIssuerDown(t *testing.T) {
	iss := newIssuer(t)
	iss.SetDown(true)
	tok := iss.MustMint(t, map[string]any{"scope": "country.read"})
	bases := startAll(t, trusting(iss))
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			r := get(t, bases[i]+"/country/code/AUS", tok)
			r.wantStatus(t, http.StatusServiceUnavailable)
			if r.header.Get("Retry-After") == "" {
				t.Errorf("no Retry-After")
			}
		})
	}
	t.Run("all answer alike", func(t *testing.T) {
		wantAlike(t, bases, "/country/code/AUS", "Bearer "+tok)
	})
}

// Every example serves its RFC 9728 metadata, naming the issuer it trusts
// and the scope its country route requires.
func TestResourceMetadata(t *testing.T) {
	iss := newIssuer(t)
	bases := startAll(t, trusting(iss))
	want := `{"resource":"` + resourceURL + `","authorization_servers":["` + iss.URL() + `"],"scopes_supported":["country.read"],"bearer_methods_supported":["header"],"resource_name":"Country API"}`
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			r := get(t, bases[i]+"/.well-known/oauth-protected-resource", "")
			r.wantStatus(t, http.StatusOK)
			r.wantBody(t, want)
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}
