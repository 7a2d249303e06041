package integration

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/internal/oidcprovider"
)

// DPoP-bound tokens from a real issuer (oidc-provider binds a token to the
// key of the proof sent with the token request), used by the client
// example with DPOP=1, against every framework; the same token without a
// proof, presented as Bearer, is refused.
func TestDPoPWithOIDCProvider(t *testing.T) {
	p := oidcprovider.Start(t)
	env := map[string]string{"ISSUER_URL": p.Issuer, "AUDIENCE": oidcprovider.Audience, "RESOURCE_URL": resourceURL}
	cfg := configFromEnv(t, env)
	bases := startAll(t, cfg)
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			for _, resource := range []string{oidcprovider.ResourceES256, oidcprovider.ResourceEdDSA} {
				out := runClient(t, p, map[string]string{
					"ISSUER_URL":    p.Issuer,
					"CLIENT_ID":     oidcprovider.CountryClientID,
					"CLIENT_SECRET": oidcprovider.CountryClientSecret,
					"SCOPES":        oidcprovider.ScopeCountryRead,
					"RESOURCE":      resource,
					"DPOP":          "1",
					"API_URL":       bases[i] + "/country/code/AUS",
				}, nil)
				for _, want := range []string{"obtained a DPoP token", "200 OK", ausJSON} {
					if !strings.Contains(out, want) {
						t.Errorf("%s: output lacks %q:\n%s", resource, want, out)
					}
				}
			}
		})
	}
	// The bound token itself, replayed without its key as Bearer: the
	// downgrade RFC 9449 §7.2 forbids.
	bound := boundToken(t, p)
	for i, ex := range examples {
		t.Run(ex.name+"/bound token as Bearer", func(t *testing.T) {
			r := get(t, bases[i]+"/country/code/AUS", bound)
			r.wantStatus(t, http.StatusUnauthorized)
			r.wantChallenge(t, `error="invalid_token"`, "cnf.jkt")
		})
	}
	wantAlike(t, bases, "/country/code/AUS", "Bearer "+bound)
	wantAlike(t, bases, "/country/code/AUS", "DPoP "+bound)
}

// boundToken gets a token bound to a key of the test's from p, as a DPoP
// client would: a proof for the token request.
func boundToken(t *testing.T, p *oidcprovider.Provider) string {
	t.Helper()
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	proof, err := key.DPoPProof(http.MethodPost, p.TokenURL(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}, "resource": {oidcprovider.ResourceES256}, "scope": {oidcprovider.ScopeCountryRead}}
	req, _ := http.NewRequest(http.MethodPost, p.TokenURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", proof)
	req.SetBasicAuth(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret)
	resp, err := p.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != 200 || tok.TokenType != "DPoP" {
		t.Fatalf("token request: %d %v %+v", resp.StatusCode, err, tok)
	}
	return tok.AccessToken
}
