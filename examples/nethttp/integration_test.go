package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/oidcprovider"
	"github.com/bouncer-go/bouncer/examples/internal/tokenclient"
)

// TestOIDCProvider runs the example as main does, configured from the
// environment it reads, against a real, independent issuer: panva's
// oidc-provider on Node.js. The API finds the issuer's keys through its
// discovery document and JWKS, and every token here comes from its token
// endpoint through x/oauth2's clientcredentials.
func TestOIDCProvider(t *testing.T) {
	p := oidcprovider.Start(t)
	env := map[string]string{
		"ISSUER_URL": p.Issuer,
		"AUDIENCE":   oidcprovider.Audience,
	}
	cfg, err := countryapi.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	base, _ := startRun(t, cfg)
	country := base + "/country/code/AUS"

	for _, c := range []struct{ resource, alg string }{
		{oidcprovider.ResourceRS256, "RS256"},
		{oidcprovider.ResourcePS256, "PS256"},
		{oidcprovider.ResourceES256, "ES256"},
		{oidcprovider.ResourceEdDSA, "EdDSA"},
	} {
		t.Run("country/"+c.alg, func(t *testing.T) {
			tok := p.Token(t, oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, c.resource, oidcprovider.ScopeCountryRead)
			if alg := headerAlg(t, tok); alg != c.alg {
				t.Fatalf("the provider signed with %s, want %s", alg, c.alg)
			}
			r := get(t, country, tok)
			r.wantStatus(t, http.StatusOK)
			if r.body != ausJSON {
				t.Errorf("body = %s, want %s", r.body, ausJSON)
			}
		})
	}

	t.Run("client_secret_post", func(t *testing.T) {
		tok := p.Token(t, oidcprovider.PostClientID, oidcprovider.PostClientSecret, oidcprovider.ResourceES256, oidcprovider.ScopeCountryRead)
		r := get(t, country, tok)
		r.wantStatus(t, http.StatusOK)
		if r.body != ausJSON {
			t.Errorf("body = %s, want %s", r.body, ausJSON)
		}
	})

	t.Run("api/data", func(t *testing.T) {
		tok := p.Token(t, oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceRS256,
			oidcprovider.ScopeCountryRead, oidcprovider.ScopeCustomerRead)
		r := get(t, base+"/api/data", tok)
		r.wantStatus(t, http.StatusOK)
		checkTokenInfo(t, r.body, oidcprovider.CountryClientID, []string{oidcprovider.Audience},
			[]string{oidcprovider.ScopeCountryRead, oidcprovider.ScopeCustomerRead})
	})

	t.Run("healthz", func(t *testing.T) {
		r := get(t, base+"/healthz", "")
		r.wantStatus(t, http.StatusOK)
		if want := `{"status":"ok","issuer_ready":true}`; r.body != want {
			t.Errorf("body = %s, want %s", r.body, want)
		}
	})

	t.Run("no token", func(t *testing.T) {
		get(t, country, "").wantStatus(t, http.StatusUnauthorized)
	})

	t.Run("other audience", func(t *testing.T) {
		tok := p.Token(t, oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceOther, oidcprovider.ScopeCountryRead)
		r := get(t, country, tok)
		r.wantStatus(t, http.StatusUnauthorized)
		r.wantChallenge(t, `error="invalid_token"`)
	})

	t.Run("insufficient scope", func(t *testing.T) {
		tok := p.Token(t, oidcprovider.LimitedClientID, oidcprovider.LimitedClientSecret, oidcprovider.ResourceRS256, oidcprovider.ScopeCustomerRead)
		r := get(t, country, tok)
		r.wantStatus(t, http.StatusForbidden)
		r.wantChallenge(t, `error="insufficient_scope"`, `scope="country.read"`)
	})

	t.Run("HS256 algorithm confusion", func(t *testing.T) {
		tok := p.Token(t, oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceHS256, oidcprovider.ScopeCountryRead)
		r := get(t, country, tok)
		r.wantStatus(t, http.StatusUnauthorized)
		r.wantChallenge(t, `error="invalid_token"`)

		v, err := countryapi.NewVerifier(cfg, quietLogger())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(t.Context(), tok); !errors.Is(err, bearer.ErrAlgorithm) {
			t.Errorf("Verify = %v, want %v", err, bearer.ErrAlgorithm)
		}
	})

	// The client example, from the environment it reads: the token
	// endpoint found through ISSUER_URL's discovery document, and a secret
	// that must be form-encoded inside HTTP Basic credentials.
	clientEnv := func(id, secret, scopes string) map[string]string {
		return map[string]string{
			"ISSUER_URL":    p.Issuer,
			"CLIENT_ID":     id,
			"CLIENT_SECRET": secret,
			"SCOPES":        scopes,
			"RESOURCE":      oidcprovider.ResourceRS256,
			"API_URL":       country,
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

// headerAlg reads the alg of a JWT's header, to be sure which algorithm a
// case exercises.
func headerAlg(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(b, &header); err != nil {
		t.Fatalf("token header: %v", err)
	}
	return header.Alg
}
