// Command countryapi is the quick start's API on Echo v4.
package main

import (
	"log"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"

	"github.com/bouncer-go/bouncer/adapters/bearerecho"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func main() {
	v, err := bearer.New(bearer.Config{
		Issuer:    os.Getenv("ISSUER_URL"),
		Audiences: []string{"country-api"},
	})
	if err != nil {
		log.Fatal(err)
	}

	auth := bearerecho.New(v)
	e := echo.New()
	e.HideBanner = true
	e.GET("/country/code/:code", h,
		auth.RequireScope("country.read"))

	log.Fatal(e.Start(os.Getenv("ADDR")))
}

func h(c echo.Context) error {
	claims, _ := bearerecho.Claims(c)
	return c.String(http.StatusOK, "country "+c.Param("code")+", for "+claims.ClientID+"\n")
}
