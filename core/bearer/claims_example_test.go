package bearer_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

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
// verified token, whichever handler, validator or policy asks first, and
// handed to each caller as a copy of its own.
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
	fmt.Println(kc.PreferredUsername, kc.ResourceAccess["country-api"].Roles)

	kc.PreferredUsername = "someone-else" // this caller's copy only
	again, _ := bearer.Typed[KeycloakClaims](claims)
	fmt.Println(again.PreferredUsername)
	// Output:
	// service-account-billing [editor]
	// service-account-billing
}

// Every handler gets claims of its own: what one request's handler changes
// never reaches the next request with the same token, which is answered
// from the claims verified the first time.
func ExampleFromContext() {
	iss, _ := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	defer iss.Close()
	v, _ := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler)})
	token, _ := iss.Mint(map[string]any{"client_id": "billing-service", "scope": "country.read"})

	handler := func(ctx context.Context) {
		claims, _ := bearer.FromContext(ctx)
		fmt.Println(claims.ClientID, claims.Scopes)
		claims.ClientID = "someone-else" // changes this request's copy only
		claims.Scopes = append(claims.Scopes, "admin")
	}
	for range 2 { // two requests with the same token, as middleware judges them
		r := httptest.NewRequest(http.MethodGet, "/country/code/AUS", nil)
		r.Header.Set("Authorization", "Bearer "+token)
		stored, err := v.Check(r.Context(), bearer.HTTPRequest(r), bearer.RequireScope("country.read"))
		if err != nil {
			log.Fatal(err)
		}
		handler(bearer.NewContext(r.Context(), stored))
	}
	// Output:
	// billing-service [country.read]
	// billing-service [country.read]
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

// A middleware of one's own, for a router bouncer has no adapter for,
// checks the request and hands the claims on with RequestWithClaims: the
// handler reads them with FromContext, like those behind bouncer's
// adapters.
func ExampleRequestWithClaims() {
	iss, _ := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	defer iss.Close()
	v, _ := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler)})
	token, _ := iss.Mint(map[string]any{"client_id": "billing-service", "scope": "country.read"})

	protect := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			claims, err := v.Check(r.Context(), bearer.HTTPRequest(r), bearer.RequireScope("country.read"))
			if err != nil {
				resp := v.Response(err) // the RFC 6750 answer
				for k, vals := range resp.Header {
					w.Header()[k] = vals
				}
				w.WriteHeader(resp.Status)
				_, _ = w.Write(resp.Body)
				return
			}
			next.ServeHTTP(w, bearer.RequestWithClaims(r, claims))
		})
	}
	countries := protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims, _ := bearer.FromContext(r.Context())
		fmt.Fprintln(w, "hello", claims.ClientID)
	}))

	r := httptest.NewRequest(http.MethodGet, "/country/code/AUS", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	countries.ServeHTTP(w, r)
	fmt.Print(w.Code, " ", w.Body)
	// Output:
	// 200 hello billing-service
}
