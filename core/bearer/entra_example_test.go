package bearer_test

import (
	"context"
	"fmt"
	"log"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// A route only services may call: an Entra token issued to an application
// acting for itself says idtyp "app"; one issued for a user does not.
func ExampleRequireAppOnly() {
	iss, err := bearertest.NewIssuer(bearertest.WithTenants(), bearertest.WithAudience("api://country"))
	if err != nil {
		log.Fatal(err)
	}
	defer iss.Close()
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"api://country"}})
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	for _, idtyp := range []string{"app", "user"} {
		token, _ := iss.Mint(map[string]any{"idtyp": idtyp, "roles": []string{"Country.Read.All"}})
		claims, err := v.Verify(context.Background(), token)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(idtyp, claims.AppOnly(), bearer.RequireAppOnly().Authorize(claims))
	}
	// Output:
	// app true <nil>
	// user false bearer: insufficient scope: the token is not an app-only token (idtyp app)
}
