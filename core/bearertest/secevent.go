package bearertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// An Issuer can also act as a Shared Signals transmitter: it signs
// Security Event Tokens (RFC 8417) with its keys, as an identity provider
// such as Keycloak signs its SETs with its realm keys, and, with
// WithSSFTransmitter, publishes the Transmitter Configuration Metadata of
// the OpenID Shared Signals Framework, so that a receiver finds its keys
// the way it would a real transmitter's. Delivering SETs is the test's:
// POST them to the receiver with Content-Type application/secevent+jwt.

// WithSSFTransmitter serves the Transmitter Configuration Metadata at
// SSFConfigurationURL: the issuer, its jwks_uri and push delivery.
func WithSSFTransmitter() Option {
	return func(c *config) { c.ssf = true }
}

// SSFConfigurationURL is where a transmitter's metadata is, by the Shared
// Signals Framework: "/.well-known/ssf-configuration" inserted between the
// issuer's host and its path.
func (i *Issuer) SSFConfigurationURL() string {
	u, _ := url.Parse(i.url)
	return u.Scheme + "://" + u.Host + "/.well-known/ssf-configuration" + strings.TrimSuffix(u.EscapedPath(), "/")
}

// serveSSFConfiguration answers the transmitter's metadata.
func (i *Issuer) serveSSFConfiguration(w http.ResponseWriter, r *http.Request) {
	if !i.cfg.ssf {
		http.NotFound(w, r)
		return
	}
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, "application/json", map[string]any{
		"spec_version":               "1_0",
		"issuer":                     i.url,
		"jwks_uri":                   i.JWKSURL(),
		"delivery_methods_supported": []string{"urn:ietf:rfc:8935"},
	})
}

// SET event types of the CAEP and RISC profiles, and of the framework.
const (
	EventSessionRevoked       = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	EventCredentialChange     = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	EventAccountDisabled      = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	EventCredentialCompromise = "https://schemas.openid.net/secevent/risc/event-type/credential-compromise"
	EventVerification         = "https://schemas.openid.net/secevent/ssf/event-type/verification"
)

// MintSET returns a Security Event Token for the receiver aud, shaped as
// the Shared Signals Framework has them: iss, iat (the issuer's clock),
// a random jti, aud, the subject in sub_id (left out when nil), events,
// and no sub and no exp; header typ secevent+jwt, signed as [Issuer.Mint]
// signs. Options change the header as for Mint; for claims of another
// shape, sign them with [Issuer.MintPayload] and WithHeader("typ",
// "secevent+jwt").
func (i *Issuer) MintSET(aud string, subID map[string]any, events map[string]any, opts ...MintOption) (string, error) {
	claims := map[string]any{
		"iss":    i.url,
		"iat":    i.cfg.now().Unix(),
		"jti":    randomID(),
		"aud":    aud,
		"events": events,
	}
	if subID != nil {
		claims["sub_id"] = subID
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("bearertest: encoding the SET: %w", err)
	}
	return i.MintPayload(payload, append([]MintOption{WithHeader("typ", "secevent+jwt")}, opts...)...)
}
