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

// KeycloakClaims are claims a Keycloak service-account token carries that
// bouncer does not normalise.
type KeycloakClaims struct {
	PreferredUsername string `json:"preferred_username"`
	ResourceAccess    map[string]struct {
		Roles []string `json:"roles"`
	} `json:"resource_access"`
}

// An application reads its own claims with Typed: decoded once per
// verified token, whichever handler or policy asks first.
func ExampleTyped() {
	iss, _ := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	defer iss.Close()
	v, _ := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler)})

	token, _ := iss.Mint(map[string]any{
		"preferred_username": "service-account-billing",
		"resource_access":    map[string]any{"country-api": map[string]any{"roles": []string{"editor"}}},
	})
	claims, err := v.Verify(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	kc, err := bearer.Typed[KeycloakClaims](claims)
	if err != nil {
		log.Fatal(err)
	}
	again, _ := bearer.Typed[KeycloakClaims](claims)
	fmt.Println(kc.PreferredUsername, kc.ResourceAccess["country-api"].Roles, kc == again)
	// Output: service-account-billing [editor] true
}

// Validators refuse tokens that are wrong for this API, with 401
// invalid_token: here, Entra tokens from tenants not on an allow-list.
func ExampleValidator() {
	iss, _ := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	defer iss.Close()
	v, _ := bearer.New(bearer.Config{
		Issuer:     iss.URL(),
		Audiences:  []string{"country-api"},
		Validators: []bearer.Validator{bearer.ClaimOneOf("tid", "8a0671e2-3a30-4d30-9cb9-ad709b9c744a")},
		Logger:     slog.New(slog.DiscardHandler),
	})

	token, _ := iss.Mint(map[string]any{"tid": "00000000-0000-0000-0000-000000000000"})
	_, err := v.Verify(context.Background(), token)
	fmt.Println(errors.Is(err, bearer.ErrClaim), v.Response(err).Status)
	fmt.Println(v.Response(err).Header.Get("WWW-Authenticate"))
	// Output:
	// true 401
	// Bearer realm="country-api", error="invalid_token", error_description="the token's tid claim is not an accepted value"
}

// Auth0 puts an API's permissions in permissions; with the mapping, routes
// say RequireScope as they would for any issuer.
func ExampleClaimMapping() {
	iss, _ := bearertest.NewIssuer(bearertest.WithAudience("https://country.example.com"))
	defer iss.Close()
	v, _ := bearer.New(bearer.Config{
		Issuer:    iss.URL(),
		Audiences: []string{"https://country.example.com"},
		Claims:    bearer.ClaimMapping{Scopes: []string{"permissions"}, Roles: []string{"groups"}},
		Logger:    slog.New(slog.DiscardHandler),
	})

	token, _ := iss.Mint(map[string]any{"permissions": []string{"read:countries"}, "groups": []string{"ops"}, "scope": "openid"})
	claims, err := v.Verify(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Scopes, claims.Roles)
	fmt.Println(bearer.RequireScope("read:countries").Authorize(claims) == nil)
	// Output:
	// [read:countries] [ops]
	// true
}
