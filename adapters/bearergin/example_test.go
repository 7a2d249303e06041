package bearergin_test

import (
	"log"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bouncer-go/bouncer/adapters/bearergin"
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
	auth := bearergin.New(v)

	r := gin.New()
	r.GET("/country/code/:code", auth.RequireScope("country.read"), func(c *gin.Context) {
		claims, _ := bearergin.Claims(c)
		c.String(http.StatusOK, "hello %s\n", claims.ClientID)
	})
	_ = r.Run(":8091")
}
