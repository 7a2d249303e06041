// Command countryapi is the quick start's net/http API for a fleet of
// replicas: they share the identifiers of DPoP proofs through the Redis at
// REDIS_ADDR, so that a proof replayed against another replica is refused.
// Bearer tokens never reach Redis.
package main

import (
	"log"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func main() {
	rdb := redis.NewClient(&redis.Options{Addr: os.Getenv("REDIS_ADDR")})
	v, err := bearer.New(bearer.Config{
		Issuer:    os.Getenv("ISSUER_URL"),
		Audiences: []string{"country-api"},
		DPoP: &bearer.DPoP{
			PublicURL: "http://" + os.Getenv("ADDR"),
			Replay:    bearerredis.New(rdb),
		},
	})
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
