package bearerecho5_test

import (
	"log"
	"net/http"

	"github.com/labstack/echo/v5"

	"github.com/bouncer-go/bouncer/adapters/bearerecho5"
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
	auth := bearerecho5.New(v)

	e := echo.New()
	e.GET("/country/code/:code", func(c *echo.Context) error {
		claims, _ := bearerecho5.Claims(c)
		return c.String(http.StatusOK, "hello "+claims.ClientID+"\n")
	}, auth.RequireScope("country.read"))
	if err := e.Start(":8091"); err != nil {
		log.Fatal(err)
	}
}
