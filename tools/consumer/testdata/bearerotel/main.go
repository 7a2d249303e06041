// Command countryapi is the quick start's net/http API with bouncer's
// OpenTelemetry metrics (here read by a reader that an exporter would take
// the place of).
package main

import (
	"log"
	"net/http"
	"os"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/adapters/bearerotel"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func main() {
	issuer, aud := os.Getenv("ISSUER_URL"), []string{"country-api"}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))

	obs, err := bearerotel.New(bearerotel.WithMeterProvider(mp)) // default: otel.GetMeterProvider()
	if err != nil {
		log.Fatal(err)
	}
	v, err := bearer.New(bearer.Config{Issuer: issuer, Audiences: aud, Observer: obs})
	if err != nil {
		log.Fatal(err)
	}

	auth := bearerhttp.New(v)
	mux := http.NewServeMux()
	mux.Handle("GET /country/code/{code}", auth.RequireScope("country.read")(http.HandlerFunc(country)))
	srv := &http.Server{Addr: os.Getenv("ADDR"), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func country(w http.ResponseWriter, r *http.Request) {
	claims, _ := bearerhttp.Claims(r)
	_, _ = w.Write([]byte("country " + r.PathValue("code") + ", for " + claims.ClientID + "\n"))
}
