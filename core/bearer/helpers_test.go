package bearer_test

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

const testAudience = "country-api"

// clock is a settable time source shared by a verifier under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newIssuer(t *testing.T, opts ...bearertest.Option) *bearertest.Issuer {
	t.Helper()
	iss, err := bearertest.NewIssuer(append([]bearertest.Option{bearertest.WithAudience(testAudience)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	return iss
}

func newVerifier(t *testing.T, iss *bearertest.Issuer, edit ...func(*bearer.Config)) *bearer.Verifier {
	t.Helper()
	cfg := bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: quiet}
	for _, e := range edit {
		e(&cfg)
	}
	v, err := bearer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// wantRefusal asserts err is an *Error wrapping sentinel with the given
// status.
func wantRefusal(t *testing.T, err error, sentinel error, status int) *bearer.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted; want %v", sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v; want %v", err, sentinel)
	}
	var e *bearer.Error
	if !errors.As(err, &e) {
		t.Fatalf("err %T is not a *bearer.Error", err)
	}
	if e.StatusCode() != status {
		t.Fatalf("status = %d; want %d (%v)", e.StatusCode(), status, err)
	}
	return e
}

// fakeRequest implements bearer.Request over plain maps.
type fakeRequest struct {
	method string
	path   string
	header http.Header
	query  url.Values
	form   url.Values
	cert   *x509.Certificate
}

func (r fakeRequest) Header(name string) []string          { return r.header.Values(name) }
func (r fakeRequest) Query(name string) []string           { return r.query[name] }
func (r fakeRequest) Form(name string) []string            { return r.form[name] }
func (r fakeRequest) ClientCertificate() *x509.Certificate { return r.cert }
func (r fakeRequest) Path() string {
	if r.path == "" {
		return "/"
	}
	return r.path
}
func (r fakeRequest) Method() string {
	if r.method == "" {
		return http.MethodGet
	}
	return r.method
}

func withAuth(values ...string) fakeRequest {
	h := http.Header{}
	for _, v := range values {
		h.Add("Authorization", v)
	}
	return fakeRequest{header: h}
}

var (
	bg    = context.Background()
	quiet = slog.New(slog.DiscardHandler)
)

func mustMintPayload(t *testing.T, iss *bearertest.Issuer, payload []byte, opts ...bearertest.MintOption) string {
	t.Helper()
	tok, err := iss.MintPayload(payload, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func newBenchVerifier(iss *bearertest.Issuer, cache bearer.CacheConfig) (*bearer.Verifier, error) {
	return bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Cache: cache, Logger: quiet})
}
