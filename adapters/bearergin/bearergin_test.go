package bearergin_test

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/bouncer-go/bouncer/adapters/bearergin"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

func setup(t *testing.T, cfg bearer.Config) (*bearertest.Issuer, *bearer.Verifier) {
	t.Helper()
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	cfg.Issuer, cfg.Audiences = iss.URL(), []string{"country-api"}
	cfg.Logger = slog.New(slog.DiscardHandler)
	v, err := bearer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return iss, v
}

func serve(h http.Handler, r *http.Request, auth ...string) *httptest.ResponseRecorder {
	for _, a := range auth {
		r.Header.Add("Authorization", a)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func get() *http.Request { return httptest.NewRequest(http.MethodGet, "/country", nil) }

func TestRefusalIsCoresResponseAndAborts(t *testing.T) {
	iss, v := setup(t, bearer.Config{})
	noScope := iss.MustMint(t, map[string]any{"scope": "customer.read"})
	auth := bearergin.New(v)
	ran := false
	r := gin.New()
	r.GET("/country", auth.Authenticate, auth.RequireScope("country.read"), func(c *gin.Context) { ran = true })

	cases := map[string][]string{
		"no credentials": nil,
		"two headers":    {"Bearer " + noScope, "Bearer " + noScope},
		"missing scope":  {"Bearer " + noScope},
	}
	for name, authz := range cases {
		t.Run(name, func(t *testing.T) {
			ran = false
			req := get()
			w := serve(r, req, authz...)
			_, err := v.Check(req.Context(), bearer.HTTPRequest(req), bearer.RequireScope("country.read"))
			want := v.Response(err)
			if ran {
				t.Fatal("the handler ran after a refusal")
			}
			if w.Code != want.Status || w.Body.String() != string(want.Body) {
				t.Fatalf("got %d %s; want %d %s", w.Code, w.Body, want.Status, want.Body)
			}
			if !maps.EqualFunc(w.Header(), want.Header, slices.Equal) {
				t.Fatalf("header = %v; want %v", w.Header(), want.Header)
			}
		})
	}
}

func TestClaimsInGinAndRequestContext(t *testing.T) {
	iss, v := setup(t, bearer.Config{})
	tok := iss.MustMint(t, map[string]any{"scope": "country.read", "client_id": "svc-a"})
	auth := bearergin.New(v)
	r := gin.New()
	r.ContextWithFallback = true
	var fromGin, fromRequest, fromC *bearer.Claims
	r.GET("/country", auth.Authenticate, auth.RequireScope("country.read"), func(c *gin.Context) {
		fromGin, _ = bearergin.Claims(c)
		fromRequest, _ = bearer.FromContext(c.Request.Context())
		fromC, _ = bearer.FromContext(c)
	})
	if w := serve(r, get(), "Bearer "+tok); w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if fromGin == nil || fromGin.ClientID != "svc-a" || !reflect.DeepEqual(fromRequest, fromGin) || !reflect.DeepEqual(fromC, fromGin) {
		t.Fatalf("claims: gin %v, request %v, gin.Context %v", fromGin, fromRequest, fromC)
	}
	if fromRequest == fromGin || fromC == fromGin {
		t.Fatal("two readers got the same claims, not copies of their own")
	}
}

func TestCustomErrorHandler(t *testing.T) {
	_, v := setup(t, bearer.Config{})
	var seen error
	auth := bearergin.New(v, bearergin.WithErrorHandler(func(c *gin.Context, err error) {
		seen = err
		c.String(http.StatusTeapot, "no")
	}))
	ran := false
	r := gin.New()
	r.GET("/country", auth.Authenticate, func(c *gin.Context) { ran = true })
	w := serve(r, get())
	var e *bearer.Error
	if !errors.As(seen, &e) || !errors.Is(e, bearer.ErrMissingToken) {
		t.Fatalf("error handler got %v", seen)
	}
	if w.Code != http.StatusTeapot || w.Body.String() != "no" || ran {
		t.Fatalf("status %d, body %q, handler ran %v", w.Code, w.Body, ran)
	}
}

func TestQueryAndFormTokens(t *testing.T) {
	iss, v := setup(t, bearer.Config{AllowQueryToken: true, AllowFormToken: true})
	tok := iss.MustMint(t, map[string]any{"scope": "country.read"})
	auth := bearergin.New(v)
	r := gin.New()
	r.Any("/country", auth.RequireScope("country.read"), func(c *gin.Context) { c.Status(http.StatusNoContent) })

	form := func(body string) *http.Request {
		req := httptest.NewRequest(http.MethodPost, "/country", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	cases := []struct {
		name   string
		req    *http.Request
		auth   []string
		status int
	}{
		{"query", httptest.NewRequest(http.MethodGet, "/country?access_token="+tok, nil), nil, 204},
		{"form", form(url.Values{"access_token": {tok}}.Encode()), nil, 204},
		{"two form fields", form(url.Values{"access_token": {tok, tok}}.Encode()), nil, 400},
		{"header and form", form(url.Values{"access_token": {tok}}.Encode()), []string{"Bearer " + tok}, 400},
		{"malformed form", form("access_token=" + tok + "&%zz"), nil, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if w := serve(r, tc.req, tc.auth...); w.Code != tc.status {
				t.Fatalf("status %d; want %d (%s)", w.Code, tc.status, w.Body)
			}
		})
	}
}

// A refusal reaches Gin's error list, for its loggers and error
// middleware, while the answer stays bouncer's.
func TestRefusalIsRecordedWithCError(t *testing.T) {
	iss, v := setup(t, bearer.Config{})
	var recorded []*gin.Error
	r := gin.New()
	r.Use(func(c *gin.Context) { c.Next(); recorded = c.Errors })
	r.GET("/", bearergin.New(v).RequireScope("country.read"), func(c *gin.Context) {})
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+iss.MustMint(t, map[string]any{"scope": "other"}))
	r.ServeHTTP(w, req)
	if w.Code != http.StatusForbidden || len(recorded) != 1 || !errors.Is(recorded[0].Err, bearer.ErrInsufficientScope) {
		t.Fatalf("status %d, recorded %v", w.Code, recorded)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Fatal("New(nil) did not panic")
		}
	}()
	bearergin.New(nil)
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
// Measured through the engine, protected route against the same handler
// open.
func TestAcceptedCacheHitAllocations(t *testing.T) {
	if bearertest.RaceDetector() {
		t.Skip("allocation counts vary under the race detector; make test runs this without it")
	}
	iss, v := setup(t, bearer.Config{})
	r := gin.New()
	ok := func(c *gin.Context) { c.Data(http.StatusOK, "text/plain", []byte("ok")) }
	r.GET("/open", ok)
	r.GET("/protected", bearergin.New(v).RequireScope("country.read"), ok)
	auth := "Bearer " + iss.MustMint(t, map[string]any{"scope": "country.read"})
	const inContext = 1 // bearer.RequestWithClaims: the request copy and its context, made together
	open, protected := allocsPerRequest(t, r, "/open", auth), allocsPerRequest(t, r, "/protected", auth)
	if protected-open != inContext {
		t.Errorf("the protected route allocates %v times per request, the open one %v; want %d more", protected, open, inContext)
	}
}
