package spiffe

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Algorithms are the JWS algorithms of JWT-SVIDs (JWT-SVID §2.1): RSA,
// ECDSA and RSA-PSS. Any other alg is refused.
var Algorithms = []string{"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}

// BundleCheckInterval is how often the bundle is read again for keys that
// left it (a new kid is looked for at once): the Verifier's KeyMaxAge.
const BundleCheckInterval = 30 * time.Second

// Config says which JWT-SVIDs an API accepts.
type Config struct {
	// TrustDomain whose JWT-SVIDs are accepted: "example.org" (or
	// "spiffe://example.org"). Required. Only its bundle's keys verify,
	// and only IDs of it pass.
	TrustDomain string

	// Audiences this API answers to, one of which a token's aud must
	// name: the audience workloads ask the Workload API for when they
	// fetch a JWT-SVID for this API (e.g. "spiffe://example.org/orders",
	// or "orders"). Required; a trust domain's own ID is too broad to be
	// one (JWT-SVID §3.2) and is refused.
	Audiences []string

	// Bundles supplies the trust domain's bundle: BundleFile for a file,
	// bearerspiffe.Bundles for the Workload API. Required.
	Bundles BundleSource

	// Issuer is the iss the trust domain's JWT-SVIDs carry when SPIRE's
	// jwt_issuer is set (an https URL). Tokens without iss are accepted
	// either way; a token with iss must carry this one. Empty: tokens
	// that carry an iss are refused.
	Issuer string
}

// Bearer returns the bearer.Config for c: keys from c.Bundles (use
// jwt-svid), no discovery, tokens with or without iss, sub a SPIFFE ID of
// the trust domain, Claims.ClientID the ID. Set the Verifier's other
// fields (Logger, Cache…) on it before bearer.New; append to its
// Validators rather than replace them.
func (c Config) Bearer() (bearer.Config, error) {
	td, err := TrustDomainID(c.TrustDomain)
	if err != nil {
		return bearer.Config{}, fmt.Errorf("spiffe: Config.TrustDomain: %w", err)
	}
	switch {
	case c.Bundles == nil:
		return bearer.Config{}, errors.New("spiffe: Config.Bundles is required: BundleFile(path), or bearerspiffe.Bundles for the Workload API")
	case len(c.Audiences) == 0:
		return bearer.Config{}, errors.New("spiffe: Config.Audiences is required: the audience workloads fetch their JWT-SVIDs for, this API alone")
	case slices.Contains(c.Audiences, ""):
		return bearer.Config{}, errors.New("spiffe: Config.Audiences holds an empty audience")
	case slices.Contains(c.Audiences, td.String()):
		return bearer.Config{}, fmt.Errorf("spiffe: Config.Audiences names the trust domain %s: every workload's tokens for any service of it could be replayed here; name this API", td)
	}
	name := td.String()
	if c.Issuer != "" {
		name = c.Issuer
	}
	return bearer.Config{
		Issuer:         name,
		IssuerOptional: true,
		Audiences:      slices.Clone(c.Audiences),
		JWKSSource:     keysOf{source: c.Bundles, trustDomain: td.TrustDomain()},
		KeyUse:         JWTSVIDUse,
		Algorithms:     slices.Clone(Algorithms),
		KeyMaxAge:      BundleCheckInterval,
		Claims:         bearer.ClaimMapping{ClientID: []string{"sub"}},
		Validators:     []bearer.Validator{memberValidator(td)},
	}, nil
}
