// Package echo5api is the country API on Echo v5, guarded by bouncer's
// bearerecho5 middleware. Command echo5 runs it; bouncer's integration
// tests run it beside the other versions, and check that all answer alike.
package echo5api

import (
	"net/http"

	"log/slog"

	"github.com/labstack/echo/v5"

	"github.com/bouncer-go/bouncer/adapters/bearerecho5"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// newEcho routes the API. The country lookup takes its policy as route
// middleware; the /api group authenticates every route in it.
func newEcho(v *countryapi.Guard, logger *slog.Logger) *echo.Echo {
	auth := bearerecho5.New(v)
	e := echo.New()
	e.GET("/country/code/:code", country, auth.Require(v.CountryPolicy()))
	api := e.Group("/api", auth.Authenticate)
	api.GET("/data", data)
	e.Match([]string{http.MethodGet, http.MethodHead}, v.Metadata.Path(), bearerecho5.Metadata(v.Metadata))
	e.GET("/healthz", func(c *echo.Context) error {
		return reply(c, countryapi.AnswerHealth(c.Request().Context(), v, logger))
	})
	return e
}

func country(c *echo.Context) error { return reply(c, countryapi.AnswerCountry(c.Param("code"))) }

func data(c *echo.Context) error { return reply(c, countryapi.AnswerData(bearerecho5.Claims(c))) }

// reply writes a as it is: c.JSON would end the body with a newline, which
// the other examples do not.
func reply(c *echo.Context, a countryapi.Answer) error {
	return c.JSONBlob(a.Status, a.Body)
}
