package countryapi

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

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A server that stops closes its verifier, which writes the summary of the
// refusals it had not yet logged: a burst of refusals shortly before a
// shutdown is not lost. At debug, each refusal is logged as it happens.
func TestShutdownWritesTheRefusalSummary(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		logs := &syncBuffer{}
		logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level}))
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		cfg := Config{Audiences: []string{DevAudience}}
		go func() {
			done <- Run(ctx, l, cfg, logger, io.Discard, func(g *Guard) Server {
				return HTTPServer(bearerhttp.New(g).Authenticate(http.NotFoundHandler()), logger)
			})
		}()
		url := "http://" + l.Addr().String() + "/"
		for i := range 3 {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Authorization", "Bearer not.a-token")
			var resp *http.Response
			for deadline := time.Now().Add(10 * time.Second); ; {
				if resp, err = http.DefaultClient.Do(req); err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("request %d: %v", i, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("request %d: %s", i, resp.Status)
			}
		}
		if strings.Contains(logs.String(), "bearer: refusals") {
			t.Fatal("a summary before the minute was over")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		out := logs.String()
		if !strings.Contains(out, `msg="bearer: refusals"`) || !strings.Contains(out, "malformed=3") {
			t.Fatalf("level %v: no summary of the 3 refusals at shutdown:\n%s", level, out)
		}
		if n := strings.Count(out, `msg="bearer: request refused"`); (level == slog.LevelDebug) != (n == 3) {
			t.Fatalf("level %v: %d refusals logged one by one", level, n)
		}
	}
}
