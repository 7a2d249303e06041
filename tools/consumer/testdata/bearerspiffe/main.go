// Command countryapi is the quick start's net/http API for workloads of
// the SPIFFE trust domain example.org: callers present a JWT-SVID for the
// audience spiffe://example.org/country-api, verified with the bundles the
// SPIFFE Workload API streams (at SPIFFE_ENDPOINT_SOCKET, e.g. a SPIRE
// agent's socket). It listens on ADDR.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/spiffe/go-spiffe/v2/workloadapi"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/adapters/bearerspiffe"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/workload/spiffe"
)

func main() {
	ctx := context.Background()
	src, err := workloadapi.NewJWTSource(ctx) // SPIFFE_ENDPOINT_SOCKET
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	cfg, err := spiffe.Config{
		TrustDomain: "example.org",
		Audiences:   []string{"spiffe://example.org/country-api"},
		Bundles:     bearerspiffe.Bundles(src),
	}.Bearer()
	if err != nil {
		log.Fatal(err)
	}
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	auth := bearerhttp.New(v)
	mux := http.NewServeMux()
	mux.Handle("GET /country/code/{code}", auth.Require(spiffe.RequireID(spiffe.MustParseID("spiffe://example.org/checkout")))(http.HandlerFunc(country)))
	srv := &http.Server{Addr: os.Getenv("ADDR"), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func country(w http.ResponseWriter, r *http.Request) {
	claims, _ := bearerhttp.Claims(r)
	fmt.Fprintf(w, "country %s, for %s\n", r.PathValue("code"), claims.ClientID) // the caller's SPIFFE ID
}
