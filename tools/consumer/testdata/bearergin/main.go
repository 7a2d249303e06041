// Command countryapi is the quick start's API on Gin.
package main

import (
	"log"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bouncer-go/bouncer/adapters/bearergin"
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

	gin.SetMode(gin.ReleaseMode)
	auth := bearergin.New(v)
	r := gin.New()
	r.GET("/country/code/:code",
		auth.RequireScope("country.read"), h)

	srv := &http.Server{Addr: os.Getenv("ADDR"), Handler: r, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func h(c *gin.Context) {
	claims, _ := bearergin.Claims(c)
	c.String(http.StatusOK, "country %s, for %s\n", c.Param("code"), claims.ClientID)
}
