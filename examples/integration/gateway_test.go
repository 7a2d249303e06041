package integration

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/internal/oidcprovider"
)

// gatewayConfig is what the live tests serve: the real issuer, and an
// in-process one that goes down before its keys are ever fetched (an
// outage from the first request).
const gatewayConfig = `
listen:
  http: 127.0.0.1:0
issuers:
  - issuer-uri: ${ISSUER}
    audiences: [country-api]
  - issuer-uri: ${DOWN_ISSUER}
    audiences: [country-api]
routes:
  - name: health
    path: /health
    auth: skip
  - name: catalogue
    path-prefix: /catalogue
    auth: optional
  - name: countries
    path-prefix: /country
    policy:
      scopes: [country.read]
dpop:
  forwarded-origin: true
log:
  level: debug
`

type proxy struct {
	name string
	base string // http://host:port
}

// gatewaySetup runs the issuer, bouncer serve, the upstream, nginx and
// Caddy.
func gatewaySetup(t *testing.T) (p *oidcprovider.Provider, down *bearertest.Issuer, bouncer string, proxies []proxy) {
	t.Helper()
	p = oidcprovider.Start(t)
	var err error
	down, err = bearertest.NewIssuer(bearertest.WithAudience(oidcprovider.Audience))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(down.Close)
	down.SetDown(true)
	bouncer, _ = startBouncer(t, gatewayConfig, "ISSUER="+p.Issuer, "DOWN_ISSUER="+down.URL())
	upstream := startUpstream(t)
	proxies = []proxy{
		{"nginx", "http://" + startNginx(t, bouncer, upstream)},
		{"caddy", "http://" + startCaddy(t, bouncer, upstream)},
	}
	return p, down, bouncer, proxies
}

// direct is bouncer serve's own answer to the original request a proxy
// describes: what the client must get through every proxy.
func direct(t *testing.T, bouncer, method, uri string, h http.Header) response {
	t.Helper()
	fh := h.Clone()
	if fh == nil {
		fh = http.Header{}
	}
	fh.Set("X-Forwarded-Method", method)
	fh.Set("X-Forwarded-Uri", uri)
	fh.Set("X-Forwarded-Host", "api.example.com")
	fh.Set("X-Forwarded-Proto", "http")
	return call(t, http.MethodGet, "http://"+bouncer+"/auth", fh)
}

func upstreamSaw(t *testing.T, r response) seen {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(r.body), &s); err != nil {
		t.Fatalf("not the upstream's answer (%d): %s", r.status, r.body)
	}
	return s
}

func TestGatewayThroughProxies(t *testing.T) {
	p, down, bouncer, proxies := gatewaySetup(t)
	good := p.Token(t, oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceRS256, oidcprovider.ScopeCountryRead)
	limited := p.Token(t, oidcprovider.LimitedClientID, oidcprovider.LimitedClientSecret, oidcprovider.ResourceRS256, oidcprovider.ScopeCustomerRead)
	other := p.Token(t, oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceOther, oidcprovider.ScopeCountryRead)
	downTok := down.MustMint(t, map[string]any{"scope": "country.read"})
	spoof := http.Header{"X-Auth-Client-Id": {"root"}, "X-Auth-Scopes": {"admin"}, "X-Auth-Issuer": {"https://evil.example"}}
	withToken := func(tok string, h http.Header) http.Header {
		out := h.Clone()
		if out == nil {
			out = http.Header{}
		}
		out.Set("Authorization", "Bearer "+tok)
		return out
	}

	for _, px := range proxies {
		t.Run(px.name, func(t *testing.T) {
			t.Run("accepted, claims upstream, spoofed ones replaced", func(t *testing.T) {
				r := call(t, "GET", px.base+"/country/AUS?x=1", withToken(good, spoof))
				if r.status != 200 {
					t.Fatalf("%d %s", r.status, r.body)
				}
				s := upstreamSaw(t, r)
				for name, want := range map[string]string{"X-Auth-Client-Id": oidcprovider.CountryClientID, "X-Auth-Scopes": oidcprovider.ScopeCountryRead, "X-Auth-Issuer": p.Issuer} {
					if got := s.Header.Values(name); len(got) != 1 || got[0] != want {
						t.Errorf("upstream got %s = %q; want %q", name, got, want)
					}
				}
				if s.URI != "/country/AUS?x=1" {
					t.Errorf("upstream got %s", s.URI)
				}
			})
			for _, path := range []string{"/health", "/catalogue/list"} {
				t.Run("spoofed claim headers never reach the upstream: "+path, func(t *testing.T) {
					r := call(t, "GET", px.base+path, spoof)
					if r.status != 200 {
						t.Fatalf("%d %s", r.status, r.body)
					}
					s := upstreamSaw(t, r)
					for name := range spoof {
						if v := s.Header.Values(name); len(v) > 0 {
							t.Errorf("upstream got the client's %s: %q", name, v)
						}
					}
				})
			}
			for _, tc := range []struct {
				name, uri string
				h         http.Header
				status    int
				// nginx answers it itself, with its own body: it refuses
				// a request with two Authorization headers before asking.
				nginxItself bool
			}{
				{"no token", "/country/AUS", nil, 401, false},
				{"token for another API", "/country/AUS", withToken(other, nil), 401, false},
				{"garbage token", "/country/AUS", withToken("not-a-token", nil), 401, false},
				{"missing scope", "/country/AUS", withToken(limited, nil), 403, false},
				{"two Authorization headers", "/country/AUS", http.Header{"Authorization": {"Bearer " + good, "Bearer " + good}}, 400, true},
				{"issuer outage", "/country/AUS", withToken(downTok, nil), 503, false},
				{"no route", "/admin", withToken(good, nil), 403, false},
			} {
				t.Run(tc.name, func(t *testing.T) {
					got := call(t, "GET", px.base+tc.uri, tc.h)
					if tc.nginxItself && px.name == "nginx" {
						if got.status != tc.status {
							t.Fatalf("nginx: %d %s", got.status, got.body)
						}
						return
					}
					want := direct(t, bouncer, "GET", tc.uri, tc.h)
					if want.status != tc.status {
						t.Fatalf("bouncer serve answers %d; the test expects %d", want.status, tc.status)
					}
					if got.status != want.status || got.body != want.body {
						t.Fatalf("through %s: %d %s; bouncer: %d %s", px.name, got.status, got.body, want.status, want.body)
					}
					for _, name := range []string{"WWW-Authenticate", "Retry-After", "Content-Type", "Cache-Control"} {
						if g, w := strings.Join(got.header.Values(name), ", "), strings.Join(want.header.Values(name), ", "); g != w {
							t.Errorf("%s = %q; bouncer gives %q", name, g, w)
						}
					}
				})
			}
		})
	}
}

// DPoP through a proxy: the proof names the URL the client called, which
// bouncer serve rebuilds from what the proxy forwards.
func TestGatewayDPoPThroughProxies(t *testing.T) {
	p, _, _, proxies := gatewaySetup(t)
	key, tok := dpopToken(t, p)
	for _, px := range proxies {
		t.Run(px.name, func(t *testing.T) {
			proof := func(method, u string) string {
				pr, err := key.DPoPProof(method, u, tok, "")
				if err != nil {
					t.Fatal(err)
				}
				return pr
			}
			h := http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {proof("GET", px.base+"/country/AUS")}, "X-Forwarded-Host": {"evil.example"}}
			r := call(t, "GET", px.base+"/country/AUS", h)
			if r.status != 200 || upstreamSaw(t, r).Header.Get("X-Auth-Client-Id") != oidcprovider.CountryClientID {
				t.Fatalf("a proof for the URL called: %d %s %q", r.status, r.body, r.header.Values("WWW-Authenticate"))
			}
			for name, pr := range map[string]string{
				"proof for another path": proof("GET", px.base+"/country/FRA"),
				"proof for another host": proof("GET", "http://evil.example/country/AUS"),
			} {
				r := call(t, "GET", px.base+"/country/AUS", http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {pr}})
				if r.status != 401 || !strings.Contains(strings.Join(r.header.Values("WWW-Authenticate"), ","), `DPoP error="invalid_dpop_proof"`) {
					t.Errorf("%s: %d %q", name, r.status, r.header.Values("WWW-Authenticate"))
				}
			}
			// The bound token without its proof, as Bearer: refused.
			r = call(t, "GET", px.base+"/country/AUS", http.Header{"Authorization": {"Bearer " + tok}})
			if r.status != 401 || !slices.ContainsFunc(r.header.Values("WWW-Authenticate"), func(c string) bool { return strings.Contains(c, "cnf.jkt") }) {
				t.Errorf("bound token as Bearer: %d %q", r.status, r.header.Values("WWW-Authenticate"))
			}
		})
	}
}

// dpopToken gets a DPoP-bound token from the real issuer, and its key.
func dpopToken(t *testing.T, p *oidcprovider.Provider) (*bearertest.Key, string) {
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
	return key, tok.AccessToken
}
