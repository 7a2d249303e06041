package bearertest

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"time"
)

// Opaque tokens are random strings that mean something only to their
// issuer: a resource server learns what one grants by asking the issuer's
// introspection endpoint (RFC 7662), authenticated as a registered client.
// The issuer serves it at IntrospectionURL and names it in its metadata.

// WithOpaqueTokens makes the token endpoint issue opaque tokens instead of
// JWTs, as Ory Hydra does by default.
func WithOpaqueTokens() Option {
	return func(c *config) { c.opaque = true }
}

// MintOpaque returns an opaque access token whose introspection answer
// holds these claims on top of the defaults of [Issuer.Mint] (a claim
// given as nil is left out), with "active": true until its exp.
func (i *Issuer) MintOpaque(claims map[string]any) string {
	c := i.claims(claims)
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := "bt_at_" + base64.RawURLEncoding.EncodeToString(b)
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.opaque == nil {
		i.opaque = map[string]map[string]any{}
	}
	i.opaque[tok] = c
	return tok
}

// Revoke makes the issuer answer that an opaque token is not active.
func (i *Issuer) Revoke(token string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	delete(i.opaque, token)
}

// IntrospectionURL is where the issuer answers introspection requests.
func (i *Issuer) IntrospectionURL() string { return i.base + "/introspect" }

// Introspections counts the introspection requests the issuer received.
func (i *Issuer) Introspections() int { return int(i.introspections.Load()) }

// serveIntrospection answers RFC 7662 requests from registered clients:
// the token's claims with "active": true while it is known and unexpired,
// else just "active": false.
func (i *Issuer) serveIntrospection(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	form, terr := parseTokenForm(w, r)
	if terr == nil {
		_, terr = i.authenticateRequest(r, form)
	}
	if terr != nil {
		terr.write(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	i.mu.Lock()
	claims, ok := i.opaque[form.Get("token")]
	i.mu.Unlock()
	if exp, isNum := claims["exp"].(int64); !ok || isNum && time.Unix(exp, 0).Before(i.cfg.now()) {
		writeJSON(w, http.StatusOK, "application/json", map[string]any{"active": false})
		return
	}
	answer := map[string]any{"active": true, "token_type": "Bearer"}
	for k, v := range claims {
		answer[k] = v
	}
	writeJSON(w, http.StatusOK, "application/json", answer)
}
