package bearerecho_test

import (
	"log"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/bouncer-go/bouncer/adapters/bearerecho"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func Example() {
	v, err := bearer.New(bearer.Config{
		Issuer:    "https://sso.example.com/realms/services",
		Audiences: []string{"country-api"},
	})
	if err != nil {
		log.Fatal(err)
	}
	auth := bearerecho.New(v)

	e := echo.New()
	e.GET("/country/code/:code", func(c echo.Context) error {
		claims, _ := bearerecho.Claims(c)
		return c.String(http.StatusOK, "hello "+claims.ClientID+"\n")
	}, auth.RequireScope("country.read"))
	e.Logger.Fatal(e.Start(":8091"))
}
