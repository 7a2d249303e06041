package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// requestTimeout bounds every request a test makes, so that a hung server
// fails the test instead of stalling the run.
const requestTimeout = 15 * time.Second

var testClient = &http.Client{Timeout: requestTimeout}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

type response struct {
	status int
	header http.Header
	body   string
}

// get sends GET url with token as a bearer token, or with no token when
// token is "".
func get(t *testing.T, url, token string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return response{resp.StatusCode, resp.Header, string(body)}
}

// wantStatus checks the status and that the answer is JSON.
func (r response) wantStatus(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s; WWW-Authenticate %q", r.status, status, r.body, r.header.Get("WWW-Authenticate"))
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
}

// wantChallenge checks that WWW-Authenticate holds every one of params.
func (r response) wantChallenge(t *testing.T, params ...string) {
	t.Helper()
	c := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(c, "Bearer ") {
		t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", c)
	}
	for _, p := range params {
		if !strings.Contains(c, p) {
			t.Errorf("WWW-Authenticate = %q, want it to hold %s", c, p)
		}
	}
}

// startRun runs the example as main does, on a free loopback port, and
// stops it when the test ends, failing the test if it does not stop
// cleanly. It returns the API's base URL and what run printed.
func startRun(t *testing.T, cfg countryapi.Config) (string, *syncBuffer) {
	t.Helper()
	l := listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, l, cfg, quietLogger(), out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(shutdownTimeout + 5*time.Second):
			t.Errorf("run did not return after its context was cancelled")
		}
	})
	return "http://" + l.Addr().String(), out
}

// listen opens a listener on a free loopback port; run closes it, and so
// does the test's end if run was never called.
func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
