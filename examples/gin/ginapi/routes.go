// Package ginapi is the country API on Gin, guarded by bouncer's bearergin
// middleware. Command gin runs it; bouncer's integration tests run it
// beside the other versions, and check that all answer alike.
package ginapi

import (
	"log/slog"

	"github.com/gin-gonic/gin"

	"github.com/bouncer-go/bouncer/adapters/bearergin"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// newRouter routes the API. The country lookup states its policy in its
// own route; the /api group authenticates every route in it.
func newRouter(v *countryapi.Guard, logger *slog.Logger) *gin.Engine {
	auth := bearergin.New(v)
	r := gin.New()
	r.GET("/country/code/:code", auth.Require(v.CountryPolicy()), country)
	api := r.Group("/api", auth.Authenticate)
	api.GET("/data", data)
	r.GET(v.Metadata.Path(), bearergin.Metadata(v.Metadata))
	r.HEAD(v.Metadata.Path(), bearergin.Metadata(v.Metadata))
	r.GET("/healthz", func(c *gin.Context) {
		reply(c, countryapi.AnswerHealth(c.Request.Context(), v, logger))
	})
	return r
}

func country(c *gin.Context) { reply(c, countryapi.AnswerCountry(c.Param("code"))) }

func data(c *gin.Context) { reply(c, countryapi.AnswerData(bearergin.Claims(c))) }

// reply writes a as it is: c.JSON would name a charset in the Content-Type,
// which the other examples do not.
func reply(c *gin.Context, a countryapi.Answer) {
	c.Data(a.Status, countryapi.ContentType, a.Body)
}
