package grpcapi

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
)

// The log says where this server listens, in its own terms, not the URL
// of an HTTP country API.
func TestLogsWhereItListens(t *testing.T) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(countryapi.DevAudience))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := &exampletest.Output{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, l, countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{countryapi.DevAudience}}, slog.New(slog.NewTextHandler(log, nil)), io.Discard)
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(log.String(), "listening") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	var line string
	for l := range strings.Lines(log.String()) {
		if strings.Contains(l, "listening") {
			line = l
		}
	}
	if !strings.Contains(line, `msg="country API listening (gRPC)" addr=127.0.0.1:`+strings.TrimPrefix(l.Addr().String(), "127.0.0.1:")) || strings.Contains(line, "http://") {
		t.Errorf("the log says %q; want %q and the port %s, without %q", line, `msg="country API listening (gRPC)" addr=127.0.0.1:`, l.Addr(), "http://")
	}
}
