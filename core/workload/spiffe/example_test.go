package spiffe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/workload/spiffe"
)

// An API that accepts JWT-SVIDs of the trust domain example.org, with the
// bundle a SPIRE agent keeps in a file.
func Example() {
	// The trust domain's bundle, as the agent writes it.
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "spire")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "bundle.json")
	jwk := key.PublicJWK()
	jwk["use"] = "jwt-svid"
	doc, _ := json.Marshal(map[string]any{"keys": []any{jwk}, "spiffe_sequence": 1})
	if err := os.WriteFile(file, doc, 0o600); err != nil {
		log.Fatal(err)
	}

	cfg, err := spiffe.Config{
		TrustDomain: "example.org",
		Audiences:   []string{"spiffe://example.org/orders"},
		Bundles:     spiffe.BundleFile(file),
	}.Bearer()
	if err != nil {
		log.Fatal(err)
	}
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	// A JWT-SVID as a workload of the shop namespace fetches it for this
	// API from the Workload API: no iss, sub its SPIFFE ID.
	mint, err := bearertest.NewIssuer()
	if err != nil {
		log.Fatal(err)
	}
	defer mint.Close()
	token, err := mint.Mint(map[string]any{
		"iss": nil, "jti": nil, "client_id": nil,
		"sub": "spiffe://example.org/ns/shop/sa/checkout",
		"aud": "spiffe://example.org/orders",
	}, bearertest.WithKey(key), bearertest.WithHeader("typ", "JWT"))
	if err != nil {
		log.Fatal(err)
	}

	claims, err := v.Verify(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.ClientID)
	shop := spiffe.RequireMemberOf(spiffe.MustParseID("spiffe://example.org/ns/shop"))
	billing := spiffe.RequireID(spiffe.MustParseID("spiffe://example.org/ns/billing/sa/invoicer"))
	fmt.Println(shop.Authorize(claims))
	fmt.Println(billing.Authorize(claims))
	// Output:
	// spiffe://example.org/ns/shop/sa/checkout
	// <nil>
	// bearer: insufficient scope: the caller's SPIFFE ID is none of spiffe://example.org/ns/billing/sa/invoicer
}

// MemberOf matches whole path segments: a namespace's prefix is not
// another namespace's.
func ExampleID_MemberOf() {
	shop := spiffe.MustParseID("spiffe://example.org/ns/shop")
	for _, s := range []string{
		"spiffe://example.org/ns/shop/sa/checkout",
		"spiffe://example.org/ns/shopping/sa/cart",
		"spiffe://example.com/ns/shop/sa/checkout",
	} {
		fmt.Println(spiffe.MustParseID(s).MemberOf(shop))
	}
	// Output:
	// true
	// false
	// false
}
