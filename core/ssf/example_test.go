package ssf_test

import (
	"log"
	"net/http"
	"os"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/ssf"
)

// A Keycloak realm's SSF transmitter pushes its security events to the
// API's receiver endpoint; the revocations they call for are enforced by
// every verifier that shares the Revoker (or, through bearerredis, by
// every replica).
func ExampleNew() {
	revoker, err := bearer.NewRevoker(bearer.RevokerConfig{})
	if err != nil {
		log.Fatal(err)
	}
	api, err := bearer.New(bearer.Config{
		Issuer:     "https://sso.example.com/realms/services",
		Audiences:  []string{"orders-api"},
		Revocation: revoker,
	})
	if err != nil {
		log.Fatal(err)
	}
	receiver, err := ssf.New(ssf.Config{
		Transmitter: bearer.Config{
			Issuer:    "https://sso.example.com/realms/services",
			Audiences: []string{"https://orders.example.com/ssf/events"},
		},
		Revocations:         revoker,
		AuthorizationHeader: "Bearer " + os.Getenv("SSF_PUSH_SECRET"),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer receiver.Close()
	http.Handle("POST /ssf/events", receiver)
	_ = api // guards the API's routes, through an adapter
}
