package echoapi

import (
	"context"
	"io"
	"log/slog"
	"net"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// Run serves the API on l until ctx is done, then shuts down gracefully
// (see countryapi.Run).
func Run(ctx context.Context, l net.Listener, cfg countryapi.Config, logger *slog.Logger, out io.Writer) error {
	return countryapi.Run(ctx, l, cfg, logger, out, func(v *countryapi.Guard) countryapi.Server {
		e := newEcho(v, logger)
		// The banner and "http server started" would go to stdout, among
		// the development issuer's instructions; Serve logs the address.
		e.HideBanner = true
		e.HidePort = true
		e.StdLogger = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
		e.Server.ReadHeaderTimeout = countryapi.ReadHeaderTimeout
		serve := func(l net.Listener) error {
			e.Listener = l
			return e.Start("") // serves e.Listener
		}
		return countryapi.Server{Serve: serve, Shutdown: e.Shutdown}
	})
}
