package kubernetes_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/workload/kubernetes"
)

// An API in a pod accepts the projected tokens other pods of its cluster
// request for the audience "orders":
//
//	volumes:
//	- name: orders-token
//	  projected:
//	    sources:
//	    - serviceAccountToken: {path: token, audience: orders, expirationSeconds: 600}
//
// The keys come from the API server, asked with this pod's own token.
func ExampleConfig_InCluster() {
	cfg, err := kubernetes.Config{Audiences: []string{"orders"}}.InCluster()
	if err != nil {
		log.Fatal(err) // not in a pod, or its files are missing
	}
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	// Routes then require what they need of the caller, e.g. with
	// bearerhttp: auth.Require(kubernetes.RequireServiceAccount("shop", "checkout"))(orders).
	_ = http.ListenAndServe(":8080", nil)
}

// A cluster whose issuer is public (EKS, GKE, AKS) is discovered like any
// issuer; here a bearertest issuer stands in for one.
func ExampleConfig_Bearer() {
	cluster, err := bearertest.NewIssuer(bearertest.WithTLS())
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	cfg, err := kubernetes.Config{
		Issuer:    cluster.URL(), // e.g. https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE
		Audiences: []string{"orders"},
	}.Bearer()
	if err != nil {
		log.Fatal(err)
	}
	cfg.HTTPClient = cluster.Client() // trusts the test issuer's certificate
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	// A token of the service account checkout in the namespace shop.
	token, _ := cluster.Mint(map[string]any{
		"aud": "orders", "client_id": nil,
		"sub": "system:serviceaccount:shop:checkout",
		"kubernetes.io": map[string]any{
			"namespace":      "shop",
			"serviceaccount": map[string]any{"name": "checkout", "uid": "14ee3fa4"},
			"pod":            map[string]any{"name": "checkout-7d9f", "uid": "5e0bd49b"},
			"node":           map[string]any{"name": "node-a", "uid": "646e7c5e"},
		},
	})
	claims, err := v.Verify(context.Background(), token)
	if err != nil {
		log.Fatal(err)
	}
	k, _ := kubernetes.ClaimsOf(claims)
	fmt.Println(claims.ClientID)
	fmt.Println(k.Namespace, k.ServiceAccount.Name, k.Pod.Name, k.Node.Name)
	fmt.Println(kubernetes.RequireNamespace("shop").Authorize(claims))
	fmt.Println(kubernetes.RequireServiceAccount("shop", "admin").Authorize(claims))
	// Output:
	// system:serviceaccount:shop:checkout
	// shop checkout checkout-7d9f node-a
	// <nil>
	// bearer: insufficient scope: the caller is not the service account shop/admin
}
