package echoapi

import (
	"context"
	"io"
	"log/slog"
	"net"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// Run serves the API on l until ctx is done, then shuts down gracefully. It
// takes the listener, rather than an address, so that tests can serve on a
// free port. Instructions for the development issuer go to out.
func Run(ctx context.Context, l net.Listener, cfg countryapi.Config, logger *slog.Logger, out io.Writer) error {
	defer l.Close()
	v, stopIssuer, err := countryapi.Setup(ctx, cfg, logger, out, countryapi.BaseURL(l.Addr()))
	if err != nil {
		return err
	}
	defer stopIssuer()

	e := newEcho(v, logger)
	// The banner and "http server started" would go to stdout, among the
	// development issuer's instructions; Serve logs the address instead.
	e.HideBanner = true
	e.HidePort = true
	e.StdLogger = slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	e.Server.ReadHeaderTimeout = countryapi.ReadHeaderTimeout
	e.Listener = l
	start := func(net.Listener) error { return e.Start("") } // serves e.Listener
	return countryapi.Serve(ctx, l, logger, start, e.Shutdown)
}
