package bearerfiber_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/bouncer-go/bouncer/adapters/bearerfiber"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

func setup(t *testing.T, opts ...bearerfiber.Option) (*bearertest.Issuer, *bearer.Verifier, *bearerfiber.Middleware) {
	t.Helper()
	iss, v := newVerifier(t, bearer.Config{})
	return iss, v, bearerfiber.New(v, opts...)
}

// newVerifier is a verifier configured by cfg for a test issuer's tokens
// for country-api.
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

// get sends GET /country through app with the given Authorization headers.
func get(t *testing.T, app *fiber.App, auth ...string) (*http.Response, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/country", nil)
	for _, a := range auth {
		r.Header.Add("Authorization", a)
	}
	resp, err := app.Test(r, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func TestRequireScope(t *testing.T) {
	iss, v, auth := setup(t)
	ran := 0
	app := fiber.New()
	app.Get("/country", auth.RequireScope("country.read"), func(c *fiber.Ctx) error {
		ran++
		claims, _ := bearerfiber.Claims(c)
		return c.SendString(claims.ClientID)
	})
	ok := iss.MustMint(t, map[string]any{"scope": "country.read", "client_id": "svc-a"})
	noScope := iss.MustMint(t, map[string]any{"scope": "customer.read"})

	cases := []struct {
		name   string
		auth   []string
		status int
	}{
		{"granted", []string{"Bearer " + ok}, 200},
		{"lower-case scheme", []string{"bearer " + ok}, 200},
		{"no credentials", nil, 401},
		{"other scheme", []string{"Basic Zm9vOmJhcg=="}, 401},
		{"two headers", []string{"Bearer " + ok, "Bearer " + ok}, 400},
		{"missing scope", []string{"Bearer " + noScope}, 403},
		{"garbage", []string{"Bearer abc"}, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ran = 0
			resp, body := get(t, app, tc.auth...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d; want %d (body %s)", resp.StatusCode, tc.status, body)
			}
			if tc.status == 200 {
				if ran != 1 || body != "svc-a" {
					t.Fatalf("handler ran %d times, body %q", ran, body)
				}
				return
			}
			if ran != 0 {
				t.Fatal("the handler ran on a refused request")
			}
			h := http.Header{"Authorization": tc.auth}
			_, err := v.Check(context.Background(), headerRequest(h), bearer.RequireScope("country.read"))
			assertResponse(t, resp, body, v.Response(err))
		})
	}
}

// assertResponse checks that the answer is want and nothing else: no
// header beyond those the HTTP server always writes, no charset added.
func assertResponse(t *testing.T, resp *http.Response, body string, want bearer.Response) {
	t.Helper()
	if resp.StatusCode != want.Status || body != string(want.Body) {
		t.Fatalf("got %d %s; want %d %s", resp.StatusCode, body, want.Status, want.Body)
	}
	for k := range resp.Header {
		if k == "Date" || k == "Content-Length" {
			continue
		}
		if got, exp := resp.Header.Values(k), want.Header.Values(k); !slices.Equal(got, exp) {
			t.Errorf("%s = %q; want %q", k, got, exp)
		}
	}
	for k := range want.Header {
		if resp.Header.Get(k) == "" {
			t.Errorf("%s missing", k)
		}
	}
}

func TestIssuerDownIs503(t *testing.T) {
	iss, v, auth := setup(t)
	app := fiber.New()
	app.Get("/country", auth.Authenticate, func(c *fiber.Ctx) error { return c.SendStatus(200) })
	tok := iss.MustMint(t, map[string]any{"scope": "country.read"})
	iss.SetDown(true)
	resp, body := get(t, app, "Bearer "+tok)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if resp.Header.Get("WWW-Authenticate") != "" {
		t.Fatal("a 503 must not challenge: the token was not judged")
	}
	_, err := v.Check(context.Background(), headerRequest(http.Header{"Authorization": {"Bearer " + tok}}))
	assertResponse(t, resp, body, v.Response(err))
}

func TestCustomErrorHandler(t *testing.T) {
	var seen error
	_, _, auth := setup(t, bearerfiber.WithErrorHandler(func(c *fiber.Ctx, err error) error {
		seen = err
		return c.Status(http.StatusTeapot).SendString("no")
	}))
	app := fiber.New()
	app.Get("/country", auth.Authenticate, func(c *fiber.Ctx) error {
		t.Error("the handler ran on a refused request")
		return nil
	})
	resp, body := get(t, app)
	var e *bearer.Error
	if !errors.As(seen, &e) || !errors.Is(seen, bearer.ErrMissingToken) {
		t.Fatalf("error handler got %v", seen)
	}
	if resp.StatusCode != http.StatusTeapot || body != "no" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}

func TestErrorHandlerErrorReachesApp(t *testing.T) {
	_, _, auth := setup(t, bearerfiber.WithErrorHandler(func(c *fiber.Ctx, err error) error {
		return fiber.NewError(http.StatusUnauthorized, "app error page")
	}))
	app := fiber.New()
	app.Get("/country", auth.Authenticate, func(c *fiber.Ctx) error { return nil })
	resp, body := get(t, app)
	if resp.StatusCode != http.StatusUnauthorized || body != "app error page" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}

func TestClaimsInBothContexts(t *testing.T) {
	iss, _, auth := setup(t)
	var first, framework, fromCtx *bearer.Claims
	app := fiber.New()
	app.Use(auth.Authenticate, func(c *fiber.Ctx) error {
		first, _ = bearerfiber.Claims(c)
		return c.Next()
	})
	app.Get("/country", auth.RequireScope("country.read"), func(c *fiber.Ctx) error {
		framework, _ = bearerfiber.Claims(c)
		fromCtx, _ = bearer.FromContext(c.UserContext())
		return nil
	})
	resp, _ := get(t, app, "Bearer "+iss.MustMint(t, map[string]any{"scope": "country.read", "client_id": "svc-a"}))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if framework == nil || framework.ClientID != "svc-a" {
		t.Fatalf("Claims = %+v", framework)
	}
	if !reflect.DeepEqual(fromCtx, framework) || !reflect.DeepEqual(first, framework) {
		t.Fatal("the route's claims are not those Authenticate put in both contexts")
	}
	if fromCtx == framework || first == framework {
		t.Fatal("two readers got the same claims, not copies of their own")
	}
}

func TestNoClaimsWithoutMiddleware(t *testing.T) {
	app := fiber.New()
	app.Get("/country", func(c *fiber.Ctx) error {
		if claims, ok := bearerfiber.Claims(c); ok || claims != nil {
			t.Error("claims on an unguarded route")
		}
		return nil
	})
	get(t, app)
}

// TestRequestsShareNoMemory sends tokens from several keys over one
// keep-alive connection, so that fasthttp reuses the same buffers, each
// twice in a row (the header cache takes a header on its second
// sighting), then all of them again, and keeps each request's claims past
// its handler. The strings handed to package bearer are views of those
// buffers: were anything bearer keeps between requests one of them, its
// caches would change under it, and later tokens would be misread or
// missed.
func TestRequestsShareNoMemory(t *testing.T) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"), bearertest.WithKeysFor(bearertest.CommonAlgorithms...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	var cached atomic.Bool // whether the last decision came from the cache
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"},
		Observer: bearer.ObserverFunc(func(e bearer.Event) { cached.Store(e.Cached) })})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		kept []*bearer.Claims
	)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/country", bearerfiber.New(v).RequireScope("country.read"), func(c *fiber.Ctx) error {
		claims, _ := bearerfiber.Claims(c)
		mu.Lock()
		defer mu.Unlock()
		kept = append(kept, claims)
		return nil
	})
	base := listen(t, app)
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	t.Cleanup(client.CloseIdleConnections)

	want := func(i int) (clientID, scope, sub string) {
		n := string(rune('a' + i))
		return "svc-" + n, "country.read extra." + n, "subject-" + n
	}
	const n = 20
	tokens := make([]string, n)
	for i := range n {
		id, scope, sub := want(i)
		alg := bearertest.CommonAlgorithms[i/5]
		tokens[i] = iss.MustMint(t, map[string]any{"client_id": id, "scope": scope, "sub": sub}, bearertest.WithAlg(alg))
	}
	send := func(i int) {
		r, _ := http.NewRequest(http.MethodGet, base+"/country", nil)
		r.Header.Set("Authorization", "Bearer "+tokens[i])
		resp, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("token %d: status %d %s", i, resp.StatusCode, body)
		}
	}
	var order []int
	for i := range n {
		send(i)
		send(i)
		order = append(order, i, i)
	}
	for i := range n {
		send(i)
		order = append(order, i)
		if !cached.Load() {
			t.Errorf("token %d was not found in the cache once the buffers it came in were reused", i)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(kept) != len(order) {
		t.Fatalf("kept %d claims", len(kept))
	}
	for k, c := range kept {
		id, scope, sub := want(order[k])
		if c.ClientID != id || strings.Join(c.Scopes, " ") != scope || c.Subject != sub || c.Issuer != iss.URL() {
			t.Errorf("request %d (token %d): claims %s %v %s %s", k, order[k], c.ClientID, c.Scopes, c.Subject, c.Issuer)
		}
	}
}

// headerRequest is a GET request carrying h, as core sees it.
func headerRequest(h http.Header) bearer.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header = h
	return bearer.HTTPRequest(r)
}

// WithFiberErrors hands the refusal to the app's ErrorHandler, with the
// challenge already on the response.
func TestFiberErrors(t *testing.T) {
	_, _, auth := setup(t, bearerfiber.WithFiberErrors())
	var got error
	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		got = err
		return c.Status(err.(*fiber.Error).Code).SendString("rendered by the app")
	}})
	app.Get("/", auth.RequireScope("country.read"), func(c *fiber.Ctx) error { return nil })
	resp, err := app.Test(httptest.NewRequest(http.MethodGet, "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	var fe *fiber.Error
	if !errors.As(got, &fe) || fe.Code != http.StatusUnauthorized {
		t.Fatalf("error handler got %#v", got)
	}
	if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="country-api"` || string(body) != "rendered by the app" {
		t.Fatalf("answer %d %q %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
}

// WithFiberErrors keeps every header of the refusal that tells the client
// what to do: here both challenges of a verifier that takes DPoP besides
// Bearer, and the DPoP nonce to retry with.
func TestFiberErrorsKeepEveryChallenge(t *testing.T) {
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
	_, err = v.Check(context.Background(), bearer.HTTPRequest(req()))
	want := v.Response(err)
	if len(want.Header.Values("WWW-Authenticate")) != 2 || want.Header.Get("DPoP-Nonce") == "" {
		t.Fatalf("core's refusal %v lacks what this test is about", want.Header)
	}

	app := fiber.New(fiber.Config{ErrorHandler: func(c *fiber.Ctx, err error) error {
		return c.Status(err.(*fiber.Error).Code).SendString("rendered by the app")
	}})
	app.Get("/", bearerfiber.New(v, bearerfiber.WithFiberErrors()).Authenticate, func(c *fiber.Ctx) error { return nil })
	resp, err := app.Test(req())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, k := range []string{"WWW-Authenticate", "DPoP-Nonce"} {
		if got := resp.Header.Values(k); !slices.Equal(got, want.Header.Values(k)) {
			t.Errorf("%s = %q; want %q", k, got, want.Header.Values(k))
		}
	}
	if resp.StatusCode != want.Status {
		t.Errorf("status %d; want %d", resp.StatusCode, want.Status)
	}
}

// Metadata answers like bearer.ResourceMetadata.ServeHTTP, also on a route
// registered for every method.
func TestMetadataRefusesOtherMethods(t *testing.T) {
	md, err := bearer.NewResourceMetadata("https://api.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.All(md.Path(), bearerfiber.Metadata(md))
	for method, want := range map[string]int{http.MethodGet: 200, http.MethodPost: 405, http.MethodDelete: 405} {
		resp, err := app.Test(httptest.NewRequest(method, md.Path(), nil))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		wantResp := md.ResponseTo(method)
		if resp.StatusCode != want || resp.StatusCode != wantResp.Status || resp.Header.Get("Allow") != wantResp.Header.Get("Allow") {
			t.Errorf("%s: %d, Allow %q", method, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
}

// An accepted request whose token bearer has seen before costs no
// allocation beyond the route's own: measured through the app's handler,
// protected route against the same handler open.
func TestAcceptedCacheHitAllocatesNothing(t *testing.T) {
	if bearertest.RaceDetector() {
		t.Skip("allocation counts vary under the race detector; make test runs this without it")
	}
	iss, _, auth := setup(t)
	app := fiber.New()
	ok := func(c *fiber.Ctx) error { return c.SendString("ok") }
	app.Get("/open", ok)
	app.Get("/protected", auth.RequireScope("country.read"), ok)
	handler := app.Handler()
	token := "Bearer " + iss.MustMint(t, map[string]any{"scope": "country.read"})
	allocs := func(path string) float64 {
		var c fasthttp.RequestCtx
		c.Request.Header.SetMethod(http.MethodGet)
		c.Request.SetRequestURI(path)
		c.Request.Header.Set("Authorization", token)
		serve := func() {
			c.ResetUserValues() // as fasthttp's server does between requests
			c.Response.Reset()
			handler(&c)
		}
		serve() // the token's first request verifies it
		if c.Response.StatusCode() != http.StatusOK {
			t.Fatalf("%s: status %d", path, c.Response.StatusCode())
		}
		return testing.AllocsPerRun(1000, serve)
	}
	open, protected := allocs("/open"), allocs("/protected")
	if protected != open {
		t.Errorf("the protected route allocates %v times per request, the open one %v", protected, open)
	}
}
