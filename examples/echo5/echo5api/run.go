package echo5api

import (
	"context"
	"io"
	"log/slog"
	"net"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// Run serves the API on l until ctx is done, then shuts down gracefully
// (see countryapi.Run).
//
// Echo v5 holds no http.Server of its own, and an Echo is an http.Handler,
// so an http.Server serves it, as for Gin.
func Run(ctx context.Context, l net.Listener, cfg countryapi.Config, logger *slog.Logger, out io.Writer) error {
	return countryapi.Run(ctx, l, cfg, logger, out, func(v *countryapi.Guard) countryapi.Server {
		e := newEcho(v, logger)
		// Echo's default logger writes JSON to stdout, among the
		// development issuer's instructions.
		e.Logger = logger
		return countryapi.HTTPServer(e, logger)
	})
}
