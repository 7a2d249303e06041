package gateway

import (
	"context"
	"crypto/x509"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

const testAudience = "orders-api"

func newIssuer(t testing.TB, opts ...bearertest.Option) *bearertest.Issuer {
	t.Helper()
	iss, err := bearertest.NewIssuer(append([]bearertest.Option{bearertest.WithAudience(testAudience)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	return iss
}

// parse reads a configuration from text, with the environment env.
func parse(t *testing.T, text string, env map[string]string) (*Config, error) {
	t.Helper()
	return Parse("gateway.yaml", []byte(text), func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
}

// newGateway builds the gateway of text; ISSUER is the issuer's URL.
func newGateway(t *testing.T, text string, iss *bearertest.Issuer) *Gateway {
	t.Helper()
	env := map[string]string{}
	if iss != nil {
		env["ISSUER"] = iss.URL()
	}
	cfg, err := parse(t, text, env)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// forwardAuthServer serves g's forward-auth on loopback.
func forwardAuthServer(t *testing.T, g *Gateway) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(g.forwardAuth))
	t.Cleanup(srv.Close)
	return srv.URL
}

type reply struct {
	status int
	header http.Header
	body   string
}

// ask sends a forward-auth check as a proxy does.
func ask(t *testing.T, base string, h http.Header) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/auth", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(b)}
}

// traefik is what Traefik's ForwardAuth sends for a request.
func traefik(method, host, uri string, h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	out.Set("X-Forwarded-Method", method)
	out.Set("X-Forwarded-Proto", "https")
	out.Set("X-Forwarded-Host", host)
	out.Set("X-Forwarded-Uri", uri)
	out.Set("X-Forwarded-For", "203.0.113.7")
	return out
}

// reference is package bearer's reply to the same request: what the
// gateway must give.
func reference(t *testing.T, c bearer.Checker, r bearer.Request, policies ...bearer.Policy) bearer.Response {
	t.Helper()
	_, err := c.Check(context.Background(), r, policies...)
	if err == nil {
		t.Fatal("the reference accepts the request")
	}
	return c.Response(err)
}

// wantRefusal checks a refusal against package bearer's.
func wantRefusal(t *testing.T, got reply, want bearer.Response) {
	t.Helper()
	if got.status != want.Status {
		t.Fatalf("status = %d; want %d (body %s)", got.status, want.Status, got.body)
	}
	for name, values := range want.Header {
		if g := got.header.Values(name); strings.Join(g, "|") != strings.Join(values, "|") {
			t.Errorf("%s = %q; want %q", name, g, values)
		}
	}
	if got.body != string(want.Body) {
		t.Errorf("body = %s; want %s", got.body, want.Body)
	}
}

// plain is a bearer.Request of headers, method and path, as a framework
// would hand it to bouncer.
type plain struct {
	method, path string
	h            http.Header
}

func (p plain) Header(name string) []string          { return p.h.Values(name) }
func (p plain) Query(string) []string                { return nil }
func (p plain) Method() string                       { return p.method }
func (p plain) Form(string) []string                 { return nil }
func (p plain) Path() string                         { return p.path }
func (p plain) ClientCertificate() *x509.Certificate { return nil }

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
