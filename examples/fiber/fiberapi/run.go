package fiberapi

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

	app := newApp(v, logger)
	return countryapi.Serve(ctx, l, logger, app.Listener, app.ShutdownWithContext)
}
