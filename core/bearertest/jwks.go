package bearertest

import "net/http"

// serveJWKS answers the JWKS endpoint, through the handler of
// [Issuer.SetJWKSHandler] if a test installed one.
func (i *Issuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	i.mu.Lock()
	h := i.jwksHandler
	i.mu.Unlock()
	if h == nil {
		h = i.DefaultJWKSHandler()
	}
	h.ServeHTTP(w, r)
}

// DefaultJWKSHandler returns the handler that serves the issuer's published
// keys, for a test handler that wraps it: to delay the answer, say, or to
// fail only some requests. It does not count fetches; the issuer counts them
// before calling any JWKS handler.
func (i *Issuer) DefaultJWKSHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
			return
		}
		writeJSON(w, http.StatusOK, "application/jwk-set+json", i.JWKS())
	})
}

// JWKSet is the JSON form of a JWK Set (RFC 7517 §5).
type JWKSet struct {
	Keys []map[string]any `json:"keys"`
}

// JWKS returns the published keys as a JWK Set, in the order of
// publication. The maps are new on each call, so a test may alter them and
// serve the result with [Issuer.SetJWKSHandler].
func (i *Issuer) JWKS() JWKSet {
	set := JWKSet{Keys: []map[string]any{}}
	for _, k := range i.PublishedKeys() {
		if jwk := k.PublicJWK(); jwk != nil {
			set.Keys = append(set.Keys, jwk)
		}
	}
	return set
}
