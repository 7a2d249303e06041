// Package exampletest runs bouncer's example servers in tests as their
// commands run them, and reads what they print.
package exampletest

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// Start runs run, an example's Run, with cfg on a free loopback port until
// t ends (see StartOn), and returns the address it serves at and what it
// prints.
func Start(t testing.TB, run countryapi.RunFunc, cfg countryapi.Config) (net.Addr, *Output) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l.Addr(), StartOn(t, run, cfg, l)
}

// StartOn runs run with cfg on l until t ends, and returns what it prints.
// When t ends run must return, without an error, within the examples'
// shutdown timeout.
func StartOn(t testing.TB, run countryapi.RunFunc, cfg countryapi.Config, l net.Listener) *Output {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &Output{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, l, cfg, slog.New(slog.DiscardHandler), out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(countryapi.ShutdownTimeout + 5*time.Second):
			t.Errorf("run did not return after its context was cancelled")
		}
	})
	return out
}

// Output is what a server prints, safe to read while it writes.
type Output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *Output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// Field reads "  name: value" from the development issuer's printed
// instructions.
func Field(t testing.TB, printed, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + `: +(\S+)$`).FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("output has no %s:\n%s", name, printed)
	}
	return m[1]
}
