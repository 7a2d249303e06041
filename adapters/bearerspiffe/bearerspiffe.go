// Package bearerspiffe feeds a bouncer Verifier of JWT-SVIDs (package
// spiffe of bouncer's core) with trust bundles from go-spiffe: the SPIFFE
// Workload API through workloadapi.JWTSource, or any jwtbundle.Source
// (a jwtbundle.Set, a federated spiffebundle source…).
//
//	src, err := workloadapi.NewJWTSource(ctx) // SPIFFE_ENDPOINT_SOCKET
//	if err != nil { … }
//	defer src.Close()
//	cfg, err := spiffe.Config{
//		TrustDomain: "example.org",
//		Audiences:   []string{"spiffe://example.org/orders"},
//		Bundles:     bearerspiffe.Bundles(src),
//	}.Bearer()
//
// The JWTSource keeps the bundles the agent streams; the Verifier reads
// the trust domain's from it on its key schedule (a new kid at once, a
// removed key within the check interval). While the agent is out of reach
// the source keeps the last bundles it had, and the Verifier goes on with
// them.
//
// It is a module of its own so that only the users of the Workload API
// download go-spiffe and gRPC.
package bearerspiffe

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/bouncer-go/bouncer/core/workload/spiffe"
	"github.com/go-jose/go-jose/v4"
	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// Bundles is a spiffe.BundleSource over source: each call writes the trust
// domain's current JWT authorities as a SPIFFE bundle (keys of use
// jwt-svid, sorted by kid). A trust domain the source holds no bundle for
// is an error, which keeps the keys the Verifier holds; a bundle with no
// authorities withdraws them.
func Bundles(source jwtbundle.Source) spiffe.BundleSource {
	return bundles{source}
}

type bundles struct{ source jwtbundle.Source }

func (b bundles) Bundle(ctx context.Context, trustDomain string) ([]byte, error) {
	td, err := spiffeid.TrustDomainFromString(trustDomain)
	if err != nil {
		return nil, fmt.Errorf("bearerspiffe: %w", err)
	}
	bundle, err := b.source.GetJWTBundleForTrustDomain(td)
	if err != nil {
		return nil, fmt.Errorf("bearerspiffe: %w", err)
	}
	authorities := bundle.JWTAuthorities()
	kids := make([]string, 0, len(authorities))
	for kid := range authorities {
		kids = append(kids, kid)
	}
	slices.Sort(kids)
	keys := make([]jose.JSONWebKey, 0, len(kids))
	for _, kid := range kids {
		keys = append(keys, jose.JSONWebKey{Key: authorities[kid], KeyID: kid, Use: spiffe.JWTSVIDUse})
	}
	out, err := json.Marshal(struct {
		Keys []jose.JSONWebKey `json:"keys"`
	}{keys})
	if err != nil {
		return nil, fmt.Errorf("bearerspiffe: trust domain %s: %w", td, err)
	}
	return out, ctx.Err()
}
