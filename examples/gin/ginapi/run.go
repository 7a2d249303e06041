package ginapi

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
// A Gin engine is an http.Handler, so an http.Server serves it rather than
// engine.Run, which has no graceful shutdown.
func Run(ctx context.Context, l net.Listener, cfg countryapi.Config, logger *slog.Logger, out io.Writer) error {
	return countryapi.Run(ctx, l, cfg, logger, out, func(v *countryapi.Guard) countryapi.Server {
		return countryapi.HTTPServer(newRouter(v, logger), logger)
	})
}
