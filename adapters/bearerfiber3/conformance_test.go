package bearerfiber3_test

import (
	"crypto/tls"
	"net"
	"testing"

	"github.com/gofiber/fiber/v3"

	"github.com/bouncer-go/bouncer/adapters/bearerfiber3"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

// TestConformance runs the suite over plain HTTP and, for the cases whose
// client certificate comes from the TLS connection, over TLS.
func TestConformance(t *testing.T) {
	conformance.Run(t,
		func(t *testing.T, v bearer.Checker) string { return serveConformance(t, v, nil) },
		func(t *testing.T, v bearer.Checker, cfg *tls.Config) string { return serveConformance(t, v, cfg) })
}

// serveConformance serves the suite's routes guarded by v, over TLS with
// cfg unless it is nil, until t ends, and returns the base URL.
func serveConformance(t *testing.T, v bearer.Checker, cfg *tls.Config) string {
	auth := bearerfiber3.New(v)
	optional := bearerfiber3.New(v, bearerfiber3.WithOptional())
	skipping := bearerfiber3.New(v, bearerfiber3.WithNext(func(c fiber.Ctx) bool { return c.Path() == conformance.PathSkipped }))
	ok := func(c fiber.Ctx) error {
		claims, _ := bearerfiber3.Claims(c)
		fromCtx, _ := bearer.FromContext(c.Context())
		return c.Send(conformance.Body(claims, fromCtx))
	}
	// The suite's oversized token is ~27 KB: past Fiber's default 4 KiB
	// header buffer, which would answer 431 before bouncer sees it.
	app := fiber.New(fiber.Config{ReadBufferSize: 64 << 10})
	methods := []string{fiber.MethodGet, fiber.MethodPost}
	app.Add(methods, conformance.PathAuthenticated, auth.Authenticate, ok)
	app.Add(methods, conformance.PathScoped, auth.RequireScope(conformance.Scope), ok)
	app.Add(methods, conformance.PathPolicy, auth.Require(conformance.Policy), ok)
	app.Add(methods, conformance.PathOptional, optional.Authenticate, ok)
	app.Add(methods, conformance.PathSkipped, skipping.RequireScope(conformance.Scope), ok)
	app.Get(conformance.Metadata.Path(), bearerfiber3.Metadata(conformance.Metadata))
	return listenTLS(t, app, cfg)
}

// listen serves app on a loopback port until t ends and returns its URL.
func listen(t *testing.T, app *fiber.App) string { return listenTLS(t, app, nil) }

// listenTLS is listen over TLS with cfg, unless it is nil.
func listenTLS(t *testing.T, app *fiber.App, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	scheme := "http://"
	if cfg != nil {
		ln, scheme = tls.NewListener(ln, cfg), "https://"
	}
	go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	return scheme + ln.Addr().String()
}
