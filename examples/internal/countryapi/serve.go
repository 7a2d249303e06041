package countryapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// ReadHeaderTimeout bounds how long a client may take to send a request's
// headers, so that slow clients cannot hold connections open for ever.
const ReadHeaderTimeout = 10 * time.Second

// ShutdownTimeout bounds how long a stopping server waits for the requests
// in flight.
const ShutdownTimeout = 10 * time.Second

// Serve runs serve(l) until ctx is done, then stops the server with
// shutdown, giving requests in flight ShutdownTimeout to finish. It is
// the lifecycle every example shares; the frameworks differ only in the
// two calls, e.g. srv.Serve and srv.Shutdown for an *http.Server, or
// app.Listener and app.ShutdownWithContext for Fiber.
//
// serve returning nil or http.ErrServerClosed after shutdown is a clean
// stop; returning before ctx is done is a failure, whatever it returns.
// Each caller logs where it listens, in its own terms (a URL, a gRPC
// target, an MCP endpoint), before calling Serve.
func Serve(ctx context.Context, l net.Listener, logger *slog.Logger, serve func(net.Listener) error, shutdown func(context.Context) error) error {
	served := make(chan error, 1)
	go func() { served <- serve(l) }()

	select {
	case err := <-served:
		if err == nil {
			err = errors.New("the server stopped by itself")
		}
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	err := shutdown(sctx)
	// Closing l as well ends a serve that had not begun to accept when
	// shutdown ran: fasthttp's Shutdown, under Fiber, returns at once then
	// and would leave it serving. Servers that closed l already ignore it.
	_ = l.Close()
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
