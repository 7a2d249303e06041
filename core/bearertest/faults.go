package bearertest

import "net/http"

// SetDown switches an outage on or off. While down, every endpoint answers
// 503 Service Unavailable, as an identity provider that is restarting or
// unreachable behind a proxy would; keys and clients are kept.
func (i *Issuer) SetDown(down bool) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.down = down
}

// SetJWKSHandler makes h answer requests to the JWKS endpoint, to serve
// errors, garbage, slow answers or a doctored key set; see
// [Issuer.DefaultJWKSHandler] and [Key.PublicJWK]. A nil h restores the
// default. [Issuer.SetDown] still takes precedence.
func (i *Issuer) SetJWKSHandler(h http.Handler) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.jwksHandler = h
}

// JWKSFetches returns how many requests reached the JWKS endpoint, including
// those answered 503 or by a handler of [Issuer.SetJWKSHandler], so that tests
// can check that a verifier caches keys and does not hammer a failing issuer.
func (i *Issuer) JWKSFetches() int { return int(i.jwksFetches.Load()) }

// DiscoveryFetches returns how many requests reached either discovery
// document, counted as [Issuer.JWKSFetches] counts.
func (i *Issuer) DiscoveryFetches() int { return int(i.discoveryFetches.Load()) }
