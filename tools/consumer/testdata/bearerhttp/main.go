// Command countryapi serves GET /country/code/{code} to the services whose
// access token, issued by the issuer at ISSUER_URL for the audience
// country-api, carries the scope country.read. It listens on ADDR
// (default :8080).
package main

import (
	"cmp"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func main() {
	v, err := bearer.New(bearer.Config{
		Issuer:    os.Getenv("ISSUER_URL"), // e.g. https://sso.example.com/realms/services
		Audiences: []string{"country-api"},
	})
	if err != nil {
		log.Fatal(err)
	}

	auth := bearerhttp.New(v)
	mux := http.NewServeMux()
	mux.Handle("GET /country/code/{code}",
		auth.RequireScope("country.read")(h))

	srv := &http.Server{
		Addr:              cmp.Or(os.Getenv("ADDR"), ":8080"),
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}

// h runs for the requests bouncer let through: their token's claims are in
// the request's context.
var h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	claims, _ := bearerhttp.Claims(r)
	fmt.Fprintf(w, "country %s, for %s\n", r.PathValue("code"), claims.ClientID)
})
