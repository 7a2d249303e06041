package conformance

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// Serve starts the server under test on 127.0.0.1 with the routes of this
// package, guarded by v, stops it when t ends, and returns its base URL
// ("http://127.0.0.1:port").
type Serve func(t *testing.T, v *bearer.Verifier) string

// testCase is one request and the answer every adapter must give.
type testCase struct {
	name   string
	path   string
	header http.Header
	query  string
	// status is the expected status; headers and body are what package
	// bearer answers to the same request without any framework.
	status int
}

// Run sends every case to the server that serve starts and checks status,
// WWW-Authenticate, Retry-After, Content-Type and body.
func Run(t *testing.T, serve Serve) {
	t.Helper()
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(Audience), bearertest.WithKeysFor(bearertest.CommonAlgorithms...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	v := newVerifier(t, iss.URL())
	base := serve(t, v)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	t.Cleanup(client.CloseIdleConnections)

	for _, tc := range cases(t, iss) {
		t.Run(tc.name, func(t *testing.T) {
			check(t, client, base, v, tc)
		})
	}

	t.Run("issuer unavailable", func(t *testing.T) {
		down, err := bearertest.NewIssuer(bearertest.WithAudience(Audience))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(down.Close)
		tok := down.MustMint(t, map[string]any{"scope": Scope})
		down.SetDown(true)
		dv := newVerifier(t, down.URL())
		dbase := serve(t, dv)
		h := bearerHeader(tok)
		for _, p := range []string{PathAuthenticated, PathScoped, PathPolicy} {
			check(t, client, dbase, dv, testCase{name: p, path: p, header: h, status: http.StatusServiceUnavailable})
		}
	})
}

func newVerifier(t *testing.T, issuer string) *bearer.Verifier {
	t.Helper()
	v, err := bearer.New(bearer.Config{Issuer: issuer, Audiences: []string{Audience}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func check(t *testing.T, client *http.Client, base string, v *bearer.Verifier, tc testCase) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+tc.path+tc.query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = tc.header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)

	claims, want := reference(v, tc)
	if want.Status != tc.status {
		t.Fatalf("the suite expects %d but package bearer answers %d", tc.status, want.Status)
	}
	if resp.StatusCode != tc.status {
		t.Fatalf("status = %d; want %d (body %s)", resp.StatusCode, tc.status, body)
	}
	if tc.status == http.StatusOK {
		if got, want := strings.TrimSpace(string(body)), string(Body(claims, claims)); got != want {
			t.Fatalf("body = %s; want %s", got, want)
		}
		if c := resp.Header.Get("WWW-Authenticate"); c != "" {
			t.Fatalf("accepted request got a challenge %q", c)
		}
		return
	}
	for _, h := range []string{"WWW-Authenticate", "Retry-After", "Content-Type", "Cache-Control"} {
		if got := resp.Header.Values(h); strings.Join(got, "|") != strings.Join(want.Header.Values(h), "|") {
			t.Errorf("%s = %q; want %q", h, got, want.Header.Values(h))
		}
	}
	if string(body) != string(want.Body) {
		t.Errorf("body = %s; want %s", body, want.Body)
	}
}

// reference is core's answer to the request, computed without any
// framework: what every adapter must reproduce.
func reference(v *bearer.Verifier, tc testCase) (*bearer.Claims, bearer.Response) {
	var policies []bearer.Policy
	switch tc.path {
	case PathScoped:
		policies = []bearer.Policy{bearer.RequireScope(Scope)}
	case PathPolicy:
		policies = []bearer.Policy{Policy}
	}
	c, err := v.Check(context.Background(), plainRequest{tc.header, tc.query}, policies...)
	if err == nil {
		return c, bearer.Response{Status: http.StatusOK}
	}
	return nil, v.Response(err)
}

// plainRequest is the request as core sees it.
type plainRequest struct {
	h     http.Header
	query string
}

func (r plainRequest) Header(name string) []string { return r.h.Values(name) }
func (r plainRequest) Query(string) []string       { return nil }
func (r plainRequest) Form(string) []string        { return nil }
func (r plainRequest) Method() string              { return http.MethodGet }

func bearerHeader(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}
