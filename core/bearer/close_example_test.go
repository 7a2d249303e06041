package bearer_test

import (
	"context"
	"log"
	"net/http"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// On shutdown, stop the server first, then close the verifier: it writes
// the summary of refusals it had not yet logged and cancels a key fetch in
// flight.
func ExampleVerifier_Close() {
	v, err := bearer.New(bearer.Config{Issuer: "https://sso.example.com/realms/services", Audiences: []string{"country-api"}})
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: ":8091", ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.ListenAndServe() }()

	// … until SIGTERM:
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
	_ = v.Close()
}
