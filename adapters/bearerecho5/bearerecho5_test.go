package bearerecho5_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	"github.com/labstack/echo/v5"

	"github.com/bouncer-go/bouncer/adapters/bearerecho5"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

func newVerifier(t *testing.T, cfg bearer.Config) (*bearertest.Issuer, *bearer.Verifier) {
	t.Helper()
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	cfg.Issuer, cfg.Audiences = iss.URL(), []string{"country-api"}
	v, err := bearer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return iss, v
}

// serve sends a GET /country carrying the given Authorization headers.
func serve(e *echo.Echo, auth ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, "/country", nil)
	for _, a := range auth {
		r.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w
}

func TestRefusalStopsTheChain(t *testing.T) {
	_, v := newVerifier(t, bearer.Config{})
	ran := false
	e := echo.New()
	e.GET("/country", func(c *echo.Context) error { ran = true; return nil }, bearerecho5.New(v).Authenticate)
	if w := serve(e); w.Code != http.StatusUnauthorized || ran {
		t.Fatalf("status %d, handler ran: %v", w.Code, ran)
	}
}

func TestClaimsInBothContexts(t *testing.T) {
	iss, v := newVerifier(t, bearer.Config{})
	tok := iss.MustMint(t, map[string]any{"scope": "country.read", "client_id": "svc-a"})
	auth := bearerecho5.New(v)
	var fromEcho, fromCtx *bearer.Claims
	e := echo.New()
	e.Use(auth.Authenticate)
	e.GET("/country", func(c *echo.Context) error {
		fromEcho, _ = bearerecho5.Claims(c)
		fromCtx, _ = bearer.FromContext(c.Request().Context())
		return c.NoContent(http.StatusOK)
	}, auth.RequireScope("country.read"))

	if w := serve(e, "Bearer "+tok); w.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", w.Code, w.Body)
	}
	if fromEcho == nil || !reflect.DeepEqual(fromEcho, fromCtx) || fromEcho.ClientID != "svc-a" {
		t.Fatalf("*echo.Context %+v, context.Context %+v", fromEcho, fromCtx)
	}
	if fromEcho == fromCtx {
		t.Fatal("two readers got the same claims, not copies of their own")
	}
}

func TestCustomErrorHandler(t *testing.T) {
	_, v := newVerifier(t, bearer.Config{})
	var seen error
	mw := bearerecho5.New(v, bearerecho5.WithErrorHandler(func(c *echo.Context, err error) error {
		seen = err
		return c.String(http.StatusTeapot, "no")
	}))
	e := echo.New()
	e.GET("/country", func(c *echo.Context) error { return nil }, mw.Authenticate)
	w := serve(e)
	var be *bearer.Error
	if w.Code != http.StatusTeapot || w.Body.String() != "no" || !errors.As(seen, &be) {
		t.Fatalf("status %d, body %q, err %#v", w.Code, w.Body, seen)
	}
}

// WithHTTPErrors hands the refusal to Echo's HTTPErrorHandler, with the
// challenge already on the response.
func TestHTTPErrors(t *testing.T) {
	_, v := newVerifier(t, bearer.Config{})
	e := echo.New()
	var got error
	e.HTTPErrorHandler = func(c *echo.Context, err error) {
		got = err
		_ = c.String(echo.StatusCode(err), "rendered by the app")
	}
	e.GET("/", func(c *echo.Context) error { return nil }, bearerecho5.New(v, bearerecho5.WithHTTPErrors()).RequireScope("country.read"))
	w := httptest.NewRecorder()
	e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
	var he *echo.HTTPError
	if !errors.As(got, &he) || he.Code != http.StatusUnauthorized || !errors.Is(he, bearer.ErrMissingToken) {
		t.Fatalf("error handler got %#v", got)
	}
	if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != `Bearer realm="country-api"` || w.Body.String() != "rendered by the app" {
		t.Fatalf("answer %d %q %q", w.Code, w.Header().Get("WWW-Authenticate"), w.Body.String())
	}
}

// WithHTTPErrors keeps every header of the refusal that tells the client
// what to do: here both challenges of a verifier that takes DPoP besides
// Bearer, and the DPoP nonce to retry with.
func TestHTTPErrorsKeepEveryChallenge(t *testing.T) {
	iss, v := newVerifier(t, bearer.Config{DPoP: &bearer.DPoP{PublicURL: "https://api.example", NonceSecret: []byte("a nonce secret of 32 bytes or more")}})
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, map[string]any{"cnf": map[string]any{"jkt": key.Thumbprint()}})
	proof, err := key.DPoPProof(http.MethodGet, "https://api.example/", tok, "")
	if err != nil {
		t.Fatal(err)
	}
	req := func() *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "DPoP "+tok)
		r.Header.Set("DPoP", proof)
		return r
	}
	// A proof without the nonce is refused before it is remembered, so
	// core may judge it first.
	_, err = v.Check(req().Context(), bearer.HTTPRequest(req()))
	want := v.Response(err)
	if len(want.Header.Values("WWW-Authenticate")) != 2 || want.Header.Get("DPoP-Nonce") == "" {
		t.Fatalf("core's refusal %v lacks what this test is about", want.Header)
	}

	e := echo.New()
	e.HTTPErrorHandler = func(c *echo.Context, err error) { _ = c.String(echo.StatusCode(err), "rendered by the app") }
	e.GET("/", func(c *echo.Context) error { return nil }, bearerecho5.New(v, bearerecho5.WithHTTPErrors()).Authenticate)
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req())
	for _, k := range []string{"WWW-Authenticate", "DPoP-Nonce"} {
		if got := w.Header().Values(k); !slices.Equal(got, want.Header.Values(k)) {
			t.Errorf("%s = %q; want %q", k, got, want.Header.Values(k))
		}
	}
	if w.Code != want.Status {
		t.Errorf("status %d; want %d", w.Code, want.Status)
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
// Measured through Echo, protected route against the same handler open.
func TestAcceptedCacheHitAllocations(t *testing.T) {
	if bearertest.RaceDetector() {
		t.Skip("allocation counts vary under the race detector; make test runs this without it")
	}
	iss, v := newVerifier(t, bearer.Config{})
	e := echo.New()
	ok := func(c *echo.Context) error { return c.Blob(http.StatusOK, "text/plain", []byte("ok")) }
	e.GET("/open", ok)
	e.GET("/protected", ok, bearerecho5.New(v).RequireScope("country.read"))
	auth := "Bearer " + iss.MustMint(t, map[string]any{"scope": "country.read"})
	const inContext = 1 // bearer.RequestWithClaims: the request copy and its context, made together
	open, protected := allocsPerRequest(t, e, "/open", auth), allocsPerRequest(t, e, "/protected", auth)
	if protected-open != inContext {
		t.Errorf("the protected route allocates %v times per request, the open one %v; want %d more", protected, open, inContext)
	}
}
