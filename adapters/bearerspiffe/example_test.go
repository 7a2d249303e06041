package bearerspiffe_test

import (
	"context"
	"fmt"
	"log"

	"github.com/bouncer-go/bouncer/adapters/bearerspiffe"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/workload/spiffe"
	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

// In a workload, the bundles come from the SPIRE agent's Workload API
// (the socket of SPIFFE_ENDPOINT_SOCKET, or WithClientOptions(WithAddr)):
// NewJWTSource waits for the first bundles, then follows every change.
func ExampleBundles_workloadAPI() {
	ctx := context.Background()
	src, err := workloadapi.NewJWTSource(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer src.Close()
	cfg, err := spiffe.Config{
		TrustDomain: "example.org",
		Audiences:   []string{"spiffe://example.org/orders"},
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
}

// Any go-spiffe bundle source will do: here a set of bundles held in
// memory, as a federation controller might keep them.
func ExampleBundles() {
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		log.Fatal(err)
	}
	td := spiffeid.RequireTrustDomainFromString("example.org")
	bundle := jwtbundle.New(td)
	if err := bundle.AddJWTAuthority(key.ID(), key.Public()); err != nil {
		log.Fatal(err)
	}

	cfg, err := spiffe.Config{
		TrustDomain: "example.org",
		Audiences:   []string{"spiffe://example.org/orders"},
		Bundles:     bearerspiffe.Bundles(jwtbundle.NewSet(bundle)),
	}.Bearer()
	if err != nil {
		log.Fatal(err)
	}
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	mint, err := bearertest.NewIssuer()
	if err != nil {
		log.Fatal(err)
	}
	defer mint.Close()
	token, _ := mint.Mint(map[string]any{
		"iss": nil, "jti": nil, "client_id": nil,
		"sub": "spiffe://example.org/ns/shop/sa/checkout",
		"aud": "spiffe://example.org/orders",
	}, bearertest.WithKey(key), bearertest.WithHeader("typ", "JWT"))
	claims, err := v.Verify(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.ClientID)
	// Output: spiffe://example.org/ns/shop/sa/checkout
}
