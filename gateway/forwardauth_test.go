package gateway

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

const ordersConfig = `
issuers:
  - issuer-uri: ${ISSUER}
    audiences: [orders-api]
routes:
  - name: health
    path: /health
    auth: skip
  - name: catalogue
    path-prefix: /catalogue
    auth: optional
  - name: read orders
    hosts: [api.example.com]
    path: /orders/{id}
    methods: [GET]
    policy:
      scopes: [orders.read]
  - name: admin
    path-prefix: /admin
    policy:
      any:
        - roles: [admin]
        - clients: [ops-console]
`

func TestForwardAuthAcceptsAndSetsClaimHeaders(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig, iss)
	base := forwardAuthServer(t, g)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read orders.write", "client_id": "billing", "sub": "billing-sa"})

	// Traefik's headers, with a client that tried to name itself.
	h := traefik("GET", "api.example.com", "/orders/7?expand=lines", http.Header{"Authorization": {"Bearer " + tok}, "X-Auth-Client-Id": {"root"}})
	a := ask(t, base, h)
	if a.status != 200 {
		t.Fatalf("status %d: %s", a.status, a.body)
	}
	for name, want := range map[string]string{
		"X-Auth-Client-Id": "billing",
		"X-Auth-Subject":   "billing-sa",
		"X-Auth-Scopes":    "orders.read orders.write",
		"X-Auth-Issuer":    iss.URL(),
	} {
		if got := a.header.Values(name); len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q; want %q", name, got, want)
		}
	}
	if a.header.Get("WWW-Authenticate") != "" {
		t.Errorf("an acceptance carries a challenge")
	}
}

func TestForwardAuthRefusesAsTheMiddlewareDoes(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig, iss)
	base := forwardAuthServer(t, g)
	weak := iss.MustMint(t, map[string]any{"scope": "orders.write", "client_id": "billing"})
	expired := iss.MustMint(t, map[string]any{"scope": "orders.read", "exp": 1})
	scoped := []bearer.Policy{bearer.RequireScope("orders.read")}
	for _, tc := range []struct {
		name     string
		h        http.Header
		policies []bearer.Policy
	}{
		{"no token", nil, scoped},
		{"missing scope", http.Header{"Authorization": {"Bearer " + weak}}, scoped},
		{"expired", http.Header{"Authorization": {"Bearer " + expired}}, scoped},
		{"garbage", http.Header{"Authorization": {"Bearer not-a-token"}}, scoped},
		{"two Authorization headers", http.Header{"Authorization": {"Bearer " + weak, "Bearer " + weak}}, scoped},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := reference(t, g.checker, plain{"GET", "/orders/7", tc.h}, tc.policies...)
			wantRefusal(t, ask(t, base, traefik("GET", "api.example.com", "/orders/7", tc.h)), want)
		})
	}
}

func TestForwardAuthRoutes(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig, iss)
	base := forwardAuthServer(t, g)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read", "client_id": "billing"})
	ops := iss.MustMint(t, map[string]any{"client_id": "ops-console"})
	bearerH := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	for _, tc := range []struct {
		name, method, host, uri string
		h                       http.Header
		status                  int
	}{
		{"skipped route, garbage token", "GET", "api.example.com", "/health", bearerH("garbage"), 200},
		{"optional route, no token", "GET", "api.example.com", "/catalogue/books", nil, 200},
		{"optional route, bad token", "GET", "api.example.com", "/catalogue", bearerH("garbage"), 401},
		{"prefix is segment-wise", "GET", "api.example.com", "/catalogueX", bearerH(tok), 403},
		{"pattern, other host", "GET", "other.example.com", "/orders/7", bearerH(tok), 403},
		{"pattern, method not listed", "DELETE", "api.example.com", "/orders/7", bearerH(tok), 403},
		{"HEAD is GET", "HEAD", "api.example.com", "/orders/7", bearerH(tok), 200},
		{"pattern, one segment only", "GET", "api.example.com", "/orders/7/lines", bearerH(tok), 403},
		{"any: a client of the list", "POST", "api.example.com", "/admin/reindex", bearerH(ops), 200},
		{"any: neither role nor client", "POST", "api.example.com", "/admin/reindex", bearerH(tok), 403},
		{"no route: denied by default", "GET", "api.example.com", "/elsewhere", bearerH(tok), 403},
		{"dot segments refused", "GET", "api.example.com", "/health/../admin/x", nil, 400},
		{"encoded slash refused", "GET", "api.example.com", "/health%2F..%2Fadmin", nil, 400},
		{"double slash refused", "GET", "api.example.com", "//admin/x", nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := ask(t, base, traefik(tc.method, tc.host, tc.uri, tc.h))
			if a.status != tc.status {
				t.Fatalf("status %d; want %d: %s", a.status, tc.status, a.body)
			}
		})
	}
}

// A route without a token, or skipped, gives no claim headers: the
// proxy then removes what the client sent under those names.
func TestClaimHeadersWithoutClaims(t *testing.T) {
	h := newClaimHeaders(UpstreamHeaders{Roles: "X-Auth-Roles", Claims: map[string]string{"tid": "X-Auth-Tenant"}})
	set, remove := h.values(nil)
	if len(set) != 0 || strings.Join(remove, ",") != "X-Auth-Client-Id,X-Auth-Subject,X-Auth-Scopes,X-Auth-Issuer,X-Auth-Roles,X-Auth-Tenant" {
		t.Fatalf("set %v, remove %v", set, remove)
	}
}

func TestForwardAuthProxyHeaders(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig, iss)
	base := forwardAuthServer(t, g)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})

	// nginx's recipe: X-Original-Method and X-Original-URI.
	nginx := http.Header{"Authorization": {"Bearer " + tok}, "X-Original-Method": {"GET"}, "X-Original-Uri": {"/orders/7"}, "X-Forwarded-Host": {"api.example.com"}, "X-Forwarded-Proto": {"https"}}
	if a := ask(t, base, nginx); a.status != 200 {
		t.Fatalf("nginx headers: %d %s", a.status, a.body)
	}
	// Nothing says which request: refused rather than guessed.
	if a := ask(t, base, http.Header{"Authorization": {"Bearer " + tok}}); a.status != 400 || !strings.Contains(a.body, "X-Forwarded-Method") {
		t.Fatalf("no original request: %d %s", a.status, a.body)
	}
	// A header sent twice: which proxy said what?
	twice := traefik("GET", "api.example.com", "/orders/7", nil)
	twice.Add("X-Forwarded-Uri", "/health")
	if a := ask(t, base, twice); a.status != 400 {
		t.Fatalf("X-Forwarded-Uri twice: %d %s", a.status, a.body)
	}
}

func TestForwardAuthTrustsConfiguredProxiesOnly(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig+"trusted-proxies: [10.0.0.0/8]\n", iss)
	base := forwardAuthServer(t, g)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	a := ask(t, base, traefik("GET", "api.example.com", "/health", http.Header{"Authorization": {"Bearer " + tok}}))
	if a.status != http.StatusForbidden || !strings.Contains(a.body, "trusted proxies") {
		t.Fatalf("a check from loopback, not trusted: %d %s", a.status, a.body)
	}
}

func TestForwardAuthIssuerOutageIs503(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig, iss)
	base := forwardAuthServer(t, g)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	iss.SetDown(true)
	h := http.Header{"Authorization": {"Bearer " + tok}}
	a := ask(t, base, traefik("GET", "api.example.com", "/orders/7", h))
	if a.status != 503 || a.header.Get("Retry-After") == "" || a.header.Get("WWW-Authenticate") != "" {
		t.Fatalf("outage: %d, Retry-After %q, challenge %q", a.status, a.header.Get("Retry-After"), a.header.Get("WWW-Authenticate"))
	}
}

// A DPoP proof names the URL the client called: the public URL of the
// host and the original path, not the gateway's own address.
func TestForwardAuthDPoP(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig+`
dpop:
  public-urls:
    api.example.com: https://api.example.com
`, iss)
	base := forwardAuthServer(t, g)
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read", "client_id": "billing", "cnf": map[string]any{"jkt": key.Thumbprint()}})
	proof := func(method, url string) string {
		p, err := key.DPoPProof(method, url, tok, "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	dpopH := func(p string) http.Header { return http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {p}} }
	if a := ask(t, base, traefik("GET", "api.example.com", "/orders/7?x=1", dpopH(proof("GET", "https://api.example.com/orders/7")))); a.status != 200 {
		t.Fatalf("proof for the forwarded URL: %d %s %s", a.status, a.header.Get("WWW-Authenticate"), a.body)
	}
	for name, p := range map[string]string{
		"proof for the gateway's address": proof("GET", base+"/auth"),
		"proof for another path":          proof("GET", "https://api.example.com/orders/8"),
		"proof for another method":        proof("POST", "https://api.example.com/orders/7"),
	} {
		t.Run(name, func(t *testing.T) {
			a := ask(t, base, traefik("GET", "api.example.com", "/orders/7", dpopH(p)))
			if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), "invalid_dpop_proof") {
				t.Fatalf("%d %q", a.status, a.header.Values("WWW-Authenticate"))
			}
		})
	}
	// A host without a public URL: the gateway cannot tell what the
	// proof must name, so none is accepted.
	other := newGateway(t, strings.Replace(ordersConfig, "hosts: [api.example.com]", "hosts: [api.example.com, other.example.com]", 1)+`
dpop:
  public-urls:
    api.example.com: https://api.example.com
`, iss)
	a := ask(t, forwardAuthServer(t, other), traefik("GET", "other.example.com", "/orders/7", dpopH(proof("GET", "https://other.example.com/orders/7"))))
	if a.status != 401 {
		t.Fatalf("host without a public URL: %d", a.status)
	}
}

// ingress-nginx's auth-url gives the whole original URL.
func TestForwardAuthOriginalURL(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig, iss)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	h := http.Header{"Authorization": {"Bearer " + tok}, "X-Original-Method": {"GET"}, "X-Original-Url": {"https://api.example.com/orders/7?x=1"}}
	if r := ask(t, forwardAuthServer(t, g), h); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	h.Set("X-Original-Url", "https://other.example.com/orders/7")
	if r := ask(t, forwardAuthServer(t, g), h); r.status != 403 {
		t.Fatalf("another host: %d %s", r.status, r.body)
	}
}

// What nginx's recipe reads of a refusal: always 403 (passed on by
// auth_request untouched), bouncer's status, every challenge and the body
// in headers.
func TestNginxAnswer(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig+"dpop:\n  forwarded-origin: true\n", iss)
	srv := httptest.NewServer(http.HandlerFunc(g.nginxAuth))
	t.Cleanup(srv.Close)
	h := http.Header{"X-Original-Method": {"GET"}, "X-Original-Uri": {"/orders/7"}, "X-Forwarded-Host": {"api.example.com"}, "X-Forwarded-Proto": {"https"}}
	r := ask(t, srv.URL, h)
	want := reference(t, g.checker, plain{"GET", "/orders/7", nil}, bearer.RequireScope("orders.read"))
	if r.status != 403 || r.header.Get("X-Bouncer-Status") != "401" || r.header.Get("X-Bouncer-Body") != string(want.Body) ||
		r.header.Get("X-Bouncer-Www-Authenticate") != strings.Join(want.Header.Values("WWW-Authenticate"), ", ") || len(want.Header.Values("WWW-Authenticate")) != 2 {
		t.Fatalf("%d %v; want the answer to %v", r.status, r.header, want)
	}
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	h.Set("Authorization", "Bearer "+tok)
	if r := ask(t, srv.URL, h); r.status != 200 || r.header.Get("X-Bouncer-Status") != "" {
		t.Fatalf("accepted: %d %v", r.status, r.header)
	}
}

// Exactly what Traefik's ForwardAuth (trustForwardHeader: false) sends:
// the client's headers, then X-Forwarded-For (the client's address),
// -Method, -Proto (http or https), -Host (the request's Host, port and
// all) and -Uri (the request URI, query and all), replacing whatever the
// client sent under those names.
func TestTraefikForwardAuthHeaders(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig+"dpop:\n  forwarded-origin: true\n", iss)
	base := forwardAuthServer(t, g)
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read", "cnf": map[string]any{"jkt": key.Thumbprint()}})
	proof, err := key.DPoPProof("GET", "https://api.example.com:8443/orders/7", tok, "")
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{
		"Authorization":      {"DPoP " + tok},
		"Dpop":               {proof},
		"Accept":             {"application/json"},
		"User-Agent":         {"orders-client/1.0"},
		"X-Forwarded-For":    {"203.0.113.7"},
		"X-Forwarded-Method": {"GET"},
		"X-Forwarded-Proto":  {"https"},
		"X-Forwarded-Host":   {"api.example.com:8443"},
		"X-Forwarded-Uri":    {"/orders/7?lines=all"},
	}
	if r := ask(t, base, h); r.status != 200 || r.header.Get("X-Auth-Scopes") != "orders.read" {
		t.Fatalf("%d %s %q", r.status, r.body, r.header.Values("WWW-Authenticate"))
	}
}
