// Package echoapi is the country API on Echo, guarded by bouncer's
// bearerecho middleware. Command echo runs it; bouncer's integration tests
// run it beside the other versions, and check that all answer alike.
package echoapi

import (
	"net/http"

	"log/slog"

	"github.com/labstack/echo/v4"

	"github.com/bouncer-go/bouncer/adapters/bearerecho"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// newEcho routes the API. The country lookup takes its policy as route
// middleware; the /api group authenticates every route in it.
func newEcho(v *countryapi.Guard, logger *slog.Logger) *echo.Echo {
	auth := bearerecho.New(v)
	e := echo.New()
	e.GET("/country/code/:code", country, auth.Require(v.CountryPolicy()))
	api := e.Group("/api", auth.Authenticate)
	api.GET("/data", data)
	e.Match([]string{http.MethodGet, http.MethodHead}, v.Metadata.Path(), bearerecho.Metadata(v.Metadata))
	e.GET("/healthz", func(c echo.Context) error {
		return reply(c, countryapi.AnswerHealth(c.Request().Context(), v, logger))
	})
	return e
}

func country(c echo.Context) error { return reply(c, countryapi.AnswerCountry(c.Param("code"))) }

func data(c echo.Context) error { return reply(c, countryapi.AnswerData(bearerecho.Claims(c))) }

// reply writes a as it is: c.JSON would end the body with a newline, which
// the other examples do not.
func reply(c echo.Context, a countryapi.Answer) error {
	return c.JSONBlob(a.Status, a.Body)
}
