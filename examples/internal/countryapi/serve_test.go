package countryapi

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
)

func TestServe(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	listen := func(t *testing.T) net.Listener {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		return l
	}
	cancelled := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}

	t.Run("http.Server stops cleanly", func(t *testing.T) {
		srv := &http.Server{Handler: http.NotFoundHandler()}
		if err := Serve(cancelled(), listen(t), quiet, srv.Serve, srv.Shutdown); err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	})
	t.Run("a server whose shutdown misses it still stops", func(t *testing.T) {
		// As fasthttp's Shutdown does when it runs before Serve accepts.
		acceptUntilClosed := func(l net.Listener) error {
			for {
				c, err := l.Accept()
				if err != nil {
					return nil
				}
				_ = c.Close()
			}
		}
		noop := func(context.Context) error { return nil }
		if err := Serve(cancelled(), listen(t), quiet, acceptUntilClosed, noop); err != nil {
			t.Errorf("Serve = %v, want nil", err)
		}
	})
	t.Run("a server that fails", func(t *testing.T) {
		boom := errors.New("boom")
		fail := func(net.Listener) error { return boom }
		err := Serve(context.Background(), listen(t), quiet, fail, func(context.Context) error { return nil })
		if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "serving: ") {
			t.Errorf("Serve = %v, want serving: boom", err)
		}
	})
}
