// Command nethttp is the country API of bouncer's examples on net/http: a
// resource server that accepts OAuth2 client-credentials access tokens.
//
//	GET /country/code/{code}  needs a token with scope country.read
//	GET /api/data             needs any valid token; echoes what it says
//	GET /healthz              open; reports whether the issuer's keys are loaded
//
// Environment: ISSUER_URL and AUDIENCE (comma-separated) name the issuer
// and this API's audience; ADDR is the listen address (default :8091).
// Without ISSUER_URL an embedded development issuer is started and the
// commands to try the API with curl are printed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

const shutdownTimeout = 10 * time.Second

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := start(ctx, logger); err != nil {
		logger.Error("country API stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

func start(ctx context.Context, logger *slog.Logger) error {
	cfg, err := countryapi.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	return run(ctx, l, cfg, logger, os.Stdout)
}

// run serves the API on l until ctx is done, then shuts down gracefully. It
// takes the listener, rather than an address, so that tests can serve on a
// free port. Instructions for the development issuer go to out.
func run(ctx context.Context, l net.Listener, cfg countryapi.Config, logger *slog.Logger, out io.Writer) error {
	defer l.Close()
	v, stopIssuer, err := countryapi.Setup(ctx, cfg, logger, out, countryapi.BaseURL(l.Addr()))
	if err != nil {
		return err
	}
	defer stopIssuer()

	srv := &http.Server{
		Handler:           newHandler(v, logger),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	logger.Info("country API listening", "url", countryapi.BaseURL(l.Addr()))

	select {
	case err := <-served:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
