// Command countryapi is the quick start's API on Echo v5.
package main

import (
	"log"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v5"

	"github.com/bouncer-go/bouncer/adapters/bearerecho5"
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

	auth := bearerecho5.New(v)
	e := echo.New()
	e.GET("/country/code/:code", h,
		auth.RequireScope("country.read"))

	srv := &http.Server{Addr: os.Getenv("ADDR"), Handler: e, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func h(c *echo.Context) error {
	claims, _ := bearerecho5.Claims(c)
	return c.String(http.StatusOK, "country "+c.Param("code")+", for "+claims.ClientID+"\n")
}
