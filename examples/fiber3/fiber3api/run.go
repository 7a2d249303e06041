package fiber3api

import (
	"context"
	"io"
	"log/slog"
	"net"

	"github.com/gofiber/fiber/v3"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// Run serves the API on l until ctx is done, then shuts down gracefully
// (see countryapi.Run).
func Run(ctx context.Context, l net.Listener, cfg countryapi.Config, logger *slog.Logger, out io.Writer) error {
	return countryapi.Run(ctx, l, cfg, logger, out, func(v *countryapi.Guard) countryapi.Server {
		app := newApp(v, logger)
		serve := func(l net.Listener) error {
			// Serve logs the address; the banner would go to stdout, among
			// the development issuer's instructions.
			return app.Listener(l, fiber.ListenConfig{DisableStartupMessage: true})
		}
		return countryapi.Server{Serve: serve, Shutdown: app.ShutdownWithContext}
	})
}
