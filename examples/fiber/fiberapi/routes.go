// Package fiberapi is the country API on Fiber, guarded by bouncer's
// bearerfiber middleware. Command fiber runs it; bouncer's integration
// tests run it beside the other versions, and check that all answer alike.
package fiberapi

import (
	"log/slog"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/bouncer-go/bouncer/adapters/bearerfiber"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// readBufferSize is room for the request's headers. Fiber answers 431 to
// headers longer than its buffer, 4 KiB by default, before any handler
// runs: a token of up to bearer.Config.MaxTokenBytes (16 KiB) must reach
// bouncer, to be accepted or refused with a proper challenge.
const readBufferSize = 32 << 10

// newApp routes the API. The country lookup states its policy in its own
// route; the /api group authenticates every route in it.
func newApp(v *countryapi.Guard, logger *slog.Logger) *fiber.App {
	app := fiber.New(fiber.Config{
		ReadBufferSize: readBufferSize,
		// Bounds how long a client may take to send a request, as
		// ReadHeaderTimeout does for the examples on net/http.
		ReadTimeout: countryapi.ReadHeaderTimeout,
		// Match paths as written, as the other examples do: by default
		// Fiber ignores letter case and a trailing slash.
		CaseSensitive: true,
		StrictRouting: true,
		// Serve logs the address; the banner would go to stdout, among
		// the development issuer's instructions.
		DisableStartupMessage: true,
	})
	// fasthttp does not recover from a panic in a handler, as net/http
	// does: without this one would stop the whole server.
	app.Use(recover.New())

	auth := bearerfiber.New(v)
	app.Get("/country/code/:code", auth.Require(v.CountryPolicy()), country)
	api := app.Group("/api", auth.Authenticate)
	api.Get("/data", data)
	app.Get(v.Metadata.Path(), bearerfiber.Metadata(v.Metadata))
	app.Get("/healthz", func(c *fiber.Ctx) error {
		return reply(c, countryapi.AnswerHealth(c.UserContext(), v, logger))
	})
	return app
}

// country reads the code, which is only valid until the handler returns
// (fasthttp reuses the request's memory); the answer is encoded before.
func country(c *fiber.Ctx) error { return reply(c, countryapi.AnswerCountry(c.Params("code"))) }

func data(c *fiber.Ctx) error { return reply(c, countryapi.AnswerData(bearerfiber.Claims(c))) }

func reply(c *fiber.Ctx, a countryapi.Answer) error {
	c.Set(fiber.HeaderContentType, countryapi.ContentType)
	return c.Status(a.Status).Send(a.Body)
}
