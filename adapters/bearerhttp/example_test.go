package bearerhttp_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
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
	auth := bearerhttp.New(v)

	mux := http.NewServeMux()
	mux.Handle("GET /country/code/{code}", auth.RequireScope("country.read")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			claims, _ := bearerhttp.Claims(r)
			fmt.Fprintf(w, "hello %s\n", claims.ClientID)
		})))
	_ = http.ListenAndServe(":8091", mux)
}
