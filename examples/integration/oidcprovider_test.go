package integration

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/oidcprovider"
	"github.com/bouncer-go/bouncer/examples/internal/tokenclient"
)

// TestOIDCProvider runs every example as its command does, configured from
// the environment it reads, against a real, independent issuer: panva's
// oidc-provider on Node.js, started once for all of them. The examples
// find the issuer's keys through its discovery document and JWKS, and
// every token here comes from its token endpoint through x/oauth2's
// clientcredentials. Each token is fetched once and sent to every
// example, so that their answers can be compared byte for byte.
func TestOIDCProvider(t *testing.T) {
	p := oidcprovider.Start(t)
	env := map[string]string{
		"ISSUER_URL":   p.Issuer,
		"AUDIENCE":     oidcprovider.Audience,
		"RESOURCE_URL": resourceURL,
	}
	cfg := configFromEnv(t, env)
	bases := startAll(t, cfg)

	token := func(id, secret, resource string, scopes ...string) string {
		return p.Token(t, id, secret, resource, scopes...)
	}
	const country = "/country/code/AUS"
	hs256 := token(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceHS256, oidcprovider.ScopeCountryRead)

	type accepted struct {
		name, path, token string
		check             func(t *testing.T, body string)
	}
	wantAUS := func(t *testing.T, body string) {
		t.Helper()
		if body != ausJSON {
			t.Errorf("body = %s, want %s", body, ausJSON)
		}
	}
	var answered []accepted
	for _, c := range []struct{ resource, alg string }{
		{oidcprovider.ResourceRS256, "RS256"},
		{oidcprovider.ResourcePS256, "PS256"},
		{oidcprovider.ResourceES256, "ES256"},
		{oidcprovider.ResourceEdDSA, "EdDSA"},
	} {
		tok := token(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, c.resource, oidcprovider.ScopeCountryRead)
		if alg := headerAlg(t, tok); alg != c.alg {
			t.Fatalf("the provider signed with %s, want %s", alg, c.alg)
		}
		answered = append(answered, accepted{"country/" + c.alg, country, tok, wantAUS})
	}
	answered = append(answered,
		accepted{"client_secret_post", country,
			token(oidcprovider.PostClientID, oidcprovider.PostClientSecret, oidcprovider.ResourceES256, oidcprovider.ScopeCountryRead),
			wantAUS},
		accepted{"api/data", "/api/data",
			token(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceRS256,
				oidcprovider.ScopeCountryRead, oidcprovider.ScopeCustomerRead),
			func(t *testing.T, body string) {
				checkTokenInfo(t, body, oidcprovider.CountryClientID, []string{oidcprovider.Audience},
					[]string{oidcprovider.ScopeCountryRead, oidcprovider.ScopeCustomerRead})
			}},
		accepted{"healthz", "/healthz", "", func(t *testing.T, body string) {
			if want := `{"status":"ok","issuer_ready":true}`; body != want {
				t.Errorf("body = %s, want %s", body, want)
			}
		}},
	)

	noTokenChallenge := `Bearer realm="country-api", resource_metadata="` + resourceURL + `/.well-known/oauth-protected-resource"`

	// Refused requests carry auth as their whole Authorization header.
	// challenge, when set, is the whole WWW-Authenticate; params are in it.
	refused := []struct {
		name, path, auth string
		status           int
		challenge        string
		params           []string
	}{
		{name: "no token", path: country, status: http.StatusUnauthorized, challenge: noTokenChallenge},
		{name: "api/data without token", path: "/api/data", status: http.StatusUnauthorized, challenge: noTokenChallenge},
		{name: "other audience", path: country,
			auth:   "Bearer " + token(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceOther, oidcprovider.ScopeCountryRead),
			status: http.StatusUnauthorized, params: []string{`error="invalid_token"`}},
		{name: "insufficient scope", path: country,
			auth:   "Bearer " + token(oidcprovider.LimitedClientID, oidcprovider.LimitedClientSecret, oidcprovider.ResourceRS256, oidcprovider.ScopeCustomerRead),
			status: http.StatusForbidden, params: []string{`error="insufficient_scope"`, `scope="country.read"`}},
		{name: "HS256 algorithm confusion", path: country, auth: "Bearer " + hs256,
			status: http.StatusUnauthorized, params: []string{`error="invalid_token"`}},
		{name: "not a JWT", path: country, auth: "Bearer not-a-jwt",
			status: http.StatusUnauthorized, params: []string{`error="invalid_token"`}},
		// Fiber's default read buffer, 4 KiB, would answer 431 to these.
		{name: "16 KiB token", path: country, auth: "Bearer " + strings.Repeat("a", 16<<10),
			status: http.StatusUnauthorized, params: []string{`error="invalid_token"`}},
		{name: "token over 16 KiB", path: country, auth: "Bearer " + strings.Repeat("a", 16<<10+1),
			status: http.StatusUnauthorized, params: []string{`error="invalid_token"`}},
		{name: "Basic credentials", path: country, auth: "Basic Y291bnRyeS1jbGllbnQ6Y291bnRyeS1zZWNyZXQ=",
			status: http.StatusUnauthorized, challenge: noTokenChallenge},
	}

	for i, ex := range examples {
		base := bases[i]
		t.Run(ex.name, func(t *testing.T) {
			for _, c := range answered {
				t.Run(c.name, func(t *testing.T) {
					r := get(t, base+c.path, c.token)
					r.wantStatus(t, http.StatusOK)
					c.check(t, r.body)
				})
			}
			for _, c := range refused {
				t.Run(c.name, func(t *testing.T) {
					r := getAuth(t, base+c.path, c.auth)
					r.wantStatus(t, c.status)
					r.wantChallenge(t, c.params...)
					if got := r.header.Get("WWW-Authenticate"); c.challenge != "" && got != c.challenge {
						t.Errorf("WWW-Authenticate = %q, want %q", got, c.challenge)
					}
				})
			}
			clientExample(t, p, base+country)
		})
	}

	t.Run("all answer alike", func(t *testing.T) {
		for _, c := range answered {
			t.Run(c.name, func(t *testing.T) {
				auth := ""
				if c.token != "" {
					auth = "Bearer " + c.token
				}
				wantAlike(t, bases, c.path, auth)
			})
		}
		for _, c := range refused {
			t.Run(c.name, func(t *testing.T) { wantAlike(t, bases, c.path, c.auth) })
		}
	})

	t.Run("HS256 algorithm confusion is an algorithm error", func(t *testing.T) {
		c, err := countryapi.NewVerifier(cfg, quietLogger(), "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.(*bearer.Verifier).Verify(t.Context(), hs256); !errors.Is(err, bearer.ErrAlgorithm) {
			t.Errorf("Verify = %v, want %v", err, bearer.ErrAlgorithm)
		}
	})
}

// clientExample runs the client example against the country lookup at
// apiURL, from the environment it reads: the token endpoint found through
// ISSUER_URL's discovery document, and a secret that must be form-encoded
// inside HTTP Basic credentials.
func clientExample(t *testing.T, p *oidcprovider.Provider, apiURL string) {
	clientEnv := func(id, secret, scopes string) map[string]string {
		return map[string]string{
			"ISSUER_URL":    p.Issuer,
			"CLIENT_ID":     id,
			"CLIENT_SECRET": secret,
			"SCOPES":        scopes,
			"RESOURCE":      oidcprovider.ResourceRS256,
			"API_URL":       apiURL,
		}
	}
	t.Run("client example", func(t *testing.T) {
		out := runClient(t, p, clientEnv(oidcprovider.SpecialClientID, oidcprovider.SpecialClientSecret, "country.read,customer.read"), nil)
		for _, want := range []string{"token endpoint (discovered): " + p.TokenURL(), "200 OK", ausJSON} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, oidcprovider.SpecialClientSecret) {
			t.Errorf("output shows the client secret:\n%s", out)
		}
	})
	t.Run("client example refused", func(t *testing.T) {
		var runErr error
		out := runClient(t, p, clientEnv(oidcprovider.LimitedClientID, oidcprovider.LimitedClientSecret, "customer.read"), &runErr)
		if runErr == nil || !strings.Contains(runErr.Error(), "403") {
			t.Errorf("Run = %v, want a failure naming 403", runErr)
		}
		if !strings.Contains(out, `error="insufficient_scope"`) {
			t.Errorf("output lacks the challenge:\n%s", out)
		}
	})
}

// runClient runs the client example's logic with env and returns what it
// printed. With runErr nil it must succeed; otherwise its error is stored
// there.
func runClient(t *testing.T, p *oidcprovider.Provider, env map[string]string, runErr *error) string {
	t.Helper()
	cfg, err := tokenclient.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = tokenclient.Run(t.Context(), cfg, p.HTTPClient(), &out)
	if runErr != nil {
		*runErr = err
	} else if err != nil {
		t.Fatalf("Run: %v; output:\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "eyJ") {
		t.Errorf("output shows a token:\n%s", out.String())
	}
	return out.String()
}
