package bearer_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// A verifier for one issuer and one API; a token from that issuer, for
// that API, with its scopes.
func Example() {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		log.Fatal(err)
	}
	defer iss.Close()

	v, err := bearer.New(bearer.Config{
		Issuer:    iss.URL(), // e.g. https://sso.example.com/realms/services
		Audiences: []string{"country-api"},
	})
	if err != nil {
		log.Fatal(err)
	}

	token, _ := iss.Mint(map[string]any{"client_id": "billing-service", "scope": "country.read customer.read"})
	claims, err := v.Verify(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.ClientID, claims.Scopes)
	fmt.Println(bearer.RequireScope("country.read").Authorize(claims) == nil)
	// Output:
	// billing-service [country.read customer.read]
	// true
}

// Refusals wrap a sentinel for the application and render into the RFC
// 6750 answer for the caller.
func Example_refusal() {
	iss, _ := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	defer iss.Close()
	v, _ := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler)})

	token, _ := iss.Mint(map[string]any{"aud": "billing-api"})
	_, err := v.Verify(context.Background(), token)
	fmt.Println(errors.Is(err, bearer.ErrAudience))

	resp := v.Response(err)
	fmt.Println(resp.Status)
	fmt.Println(resp.Header.Get("WWW-Authenticate"))
	fmt.Println(string(resp.Body))
	// Output:
	// true
	// 401
	// Bearer realm="country-api", error="invalid_token", error_description="the token is not meant for this API"
	// {"error":"invalid_token","error_description":"the token is not meant for this API"}
}

// Entra ID app-only tokens carry application permissions in roles, never
// scp; a route that serves both kinds of caller accepts either.
func ExampleRequireScopeOrAppPermission() {
	policy := bearer.RequireScopeOrAppPermission([]string{"Country.Read"}, []string{"Country.Read.All"})
	app := &bearer.Claims{Roles: []string{"Country.Read.All"}}
	delegated := &bearer.Claims{Scopes: []string{"Country.Read"}}
	other := &bearer.Claims{Roles: []string{"Billing.Write"}}
	fmt.Println(policy.Authorize(app) == nil, policy.Authorize(delegated) == nil, policy.Authorize(other) == nil)
	// Output: true true false
}
