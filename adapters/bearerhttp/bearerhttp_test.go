package bearerhttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

func setup(t *testing.T) (*bearertest.Issuer, http.Handler) {
	t.Helper()
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}})
	if err != nil {
		t.Fatal(err)
	}
	mw := bearerhttp.New(v)
	mux := http.NewServeMux()
	mux.Handle("GET /country", mw.RequireScope("country.read")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := bearerhttp.Claims(r)
		_ = json.NewEncoder(w).Encode(map[string]any{"client": c.ClientID})
	})))
	return iss, mux
}

func serve(h http.Handler, auth ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/country", nil)
	for _, a := range auth {
		r.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRequireScope(t *testing.T) {
	iss, h := setup(t)
	ok := iss.MustMint(t, map[string]any{"scope": "country.read", "client_id": "svc-a"})
	noScope := iss.MustMint(t, map[string]any{"scope": "customer.read"})

	cases := []struct {
		name      string
		auth      []string
		status    int
		challenge string
		body      string
	}{
		{"granted", []string{"Bearer " + ok}, 200, "", `{"client":"svc-a"}`},
		{"lower-case scheme", []string{"bearer " + ok}, 200, "", `{"client":"svc-a"}`},
		{"no credentials", nil, 401, `Bearer realm="country-api"`, `{"error_description":"the request carries no bearer token"}`},
		{"other scheme", []string{"Basic Zm9vOmJhcg=="}, 401, `Bearer realm="country-api"`, `{"error_description":"the request carries no bearer token"}`},
		{"two headers", []string{"Bearer " + ok, "Bearer " + ok}, 400, `Bearer realm="country-api", error="invalid_request", error_description="the request has more than one Authorization header"`, ""},
		{"missing scope", []string{"Bearer " + noScope}, 403, `Bearer realm="country-api", error="insufficient_scope", error_description="the token lacks the scope country.read", scope="country.read"`, ""},
		{"garbage", []string{"Bearer abc"}, 401, `Bearer realm="country-api", error="invalid_token", error_description="the token is not a compact JWS"`, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(h, tc.auth...)
			if w.Code != tc.status {
				t.Fatalf("status = %d; body %s", w.Code, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tc.challenge {
				t.Fatalf("WWW-Authenticate = %q; want %q", got, tc.challenge)
			}
			if tc.body != "" && strings.TrimSpace(w.Body.String()) != tc.body {
				t.Fatalf("body = %s; want %s", w.Body, tc.body)
			}
			if tc.status >= 400 && w.Header().Get("Content-Type") != "application/json" {
				t.Fatalf("content type %q", w.Header().Get("Content-Type"))
			}
		})
	}
}

func TestIssuerDownIs503(t *testing.T) {
	iss, h := setup(t)
	tok := iss.MustMint(t, map[string]any{"scope": "country.read"})
	iss.SetDown(true)
	w := serve(h, "Bearer "+tok)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	if w.Header().Get("WWW-Authenticate") != "" {
		t.Fatal("a 503 must not challenge: the token was not judged")
	}
}

func TestCustomErrorWriter(t *testing.T) {
	iss, err := bearertest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	v, _ := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"x"}})
	var seen error
	mw := bearerhttp.New(v, bearerhttp.WithErrorWriter(func(w http.ResponseWriter, r *http.Request, err error) {
		seen = err
		w.WriteHeader(http.StatusTeapot)
	}))
	w := serve(mw.Authenticate(http.NotFoundHandler()))
	if w.Code != http.StatusTeapot || seen == nil {
		t.Fatalf("status %d, err %v", w.Code, seen)
	}
}

// An API that authenticates every request against a public issuer and
// guards /admin with another issuer's verifier: a public token carrying a
// scope named admin must not open /admin.
func TestStackedVerifiers(t *testing.T) {
	newIss := func(aud string) *bearertest.Issuer {
		iss, err := bearertest.NewIssuer(bearertest.WithAudience(aud))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(iss.Close)
		return iss
	}
	pubIss, adminIss := newIss("public-api"), newIss("admin-api")
	newAuth := func(iss *bearertest.Issuer, aud string) *bearerhttp.Middleware {
		v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{aud}})
		if err != nil {
			t.Fatal(err)
		}
		return bearerhttp.New(v)
	}
	publicAuth, adminAuth := newAuth(pubIss, "public-api"), newAuth(adminIss, "admin-api")
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	mux := http.NewServeMux()
	mux.Handle("GET /admin", adminAuth.RequireScope("admin")(ok))
	mux.Handle("GET /public", ok)
	h := publicAuth.Authenticate(mux)

	get := func(path, tok string) int {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	pubTok := pubIss.MustMint(t, map[string]any{"scope": "admin"})
	if code := get("/public", pubTok); code != 200 {
		t.Fatalf("public route: %d", code)
	}
	if code := get("/admin", pubTok); code != 401 {
		t.Fatalf("admin route with the public issuer's token: %d; want 401", code)
	}
}

func TestNewRefusesNilVerifier(t *testing.T) {
	var v *bearer.Verifier
	for _, c := range []bearer.Checker{nil, v} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "bearerhttp: New") {
					t.Fatalf("recovered %v", r)
				}
			}()
			bearerhttp.New(c)
		}()
	}
}

// A handler that changes the claims it gets, or what Typed decoded for it,
// changes them for itself alone: the next request with the same token,
// answered from the verifier's cache, sees the token's own.
func TestHandlerChangesNeverReachTheNextRequest(t *testing.T) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}})
	if err != nil {
		t.Fatal(err)
	}
	type own struct {
		Tenant string   `json:"tenant"`
		Groups []string `json:"groups"`
	}
	mw := bearerhttp.New(v)
	careless := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := bearerhttp.Claims(r)
		o, err := bearer.Typed[own](c)
		if err != nil {
			t.Error(err)
		}
		fromCtx, _ := bearer.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]any{"client": c.ClientID, "scopes": c.Scopes, "roles": c.ClientRoles, "tenant": o.Tenant, "groups": o.Groups, "ctx": fromCtx.Scopes})
		for _, c := range []*bearer.Claims{c, fromCtx} {
			c.ClientID = "mallory"
			c.Scopes[0] = "admin"
			c.Scopes = append(c.Scopes, "root")
			c.ClientRoles["api"][0] = "admin"
			c.ClientRoles["other"] = []string{"admin"}
		}
		o.Tenant, o.Groups[0] = "evil", "admin"
	})
	h := mw.Authenticate(mw.RequireScope("country.read")(careless))
	tok := iss.MustMint(t, map[string]any{"client_id": "svc-a", "scope": "country.read", "tenant": "acme", "groups": []string{"ops"},
		"resource_access": map[string]any{"api": map[string]any{"roles": []string{"reader"}}}})
	want := `{"client":"svc-a","ctx":["country.read"],"groups":["ops"],"roles":{"api":["reader"]},"scopes":["country.read"],"tenant":"acme"}`
	for i := range 3 {
		w := serve(h, "Bearer "+tok)
		if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != want {
			t.Fatalf("request %d: %d %s; want %s", i+1, w.Code, w.Body, want)
		}
	}
}

// discard is a ResponseWriter that keeps nothing, so that a handler's
// allocations are counted without a recorder's.
type discard struct {
	header http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(status int)      { d.status = status }

// allocsPerRequest is how many times h allocates per GET of path with the
// Authorization header auth, after a first request verified the token.
func allocsPerRequest(t *testing.T, h http.Handler, path, auth string) float64 {
	t.Helper()
	// A server's request context, never context.Background().
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
	r.Header.Set("Authorization", auth)
	w := &discard{header: http.Header{}}
	h.ServeHTTP(w, r)
	if w.status != 0 && w.status != http.StatusOK {
		t.Fatalf("%s: status %d", path, w.status)
	}
	return testing.AllocsPerRun(1000, func() { clear(w.header); h.ServeHTTP(w, r) })
}

// An accepted request whose token bearer has seen before allocates once:
// the copy of the request that carries the claims in its context, made
// together with that context by bearer.RequestWithClaims. net/http hands
// handlers a request they may not change, so a middleware that gives the
// next handler a new context cannot do with less.
// Measured through the mux, protected route against the same handler
// open.
func TestAcceptedCacheHitAllocations(t *testing.T) {
	if bearertest.RaceDetector() {
		t.Skip("allocation counts vary under the race detector; make test runs this without it")
	}
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}})
	if err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux := http.NewServeMux()
	mux.Handle("GET /open", ok)
	mux.Handle("GET /protected", bearerhttp.New(v).RequireScope("country.read")(ok))
	auth := "Bearer " + iss.MustMint(t, map[string]any{"scope": "country.read"})
	const inContext = 1 // bearer.RequestWithClaims: the request copy and its context, made together
	open, protected := allocsPerRequest(t, mux, "/open", auth), allocsPerRequest(t, mux, "/protected", auth)
	if protected-open != inContext {
		t.Errorf("the protected route allocates %v times per request, the open one %v; want %d more", protected, open, inContext)
	}
}
