package main

import (
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// An encryption key, as Keycloak publishes next to its signing keys.
func encryptionKey(t *testing.T) map[string]any {
	t.Helper()
	k, err := bearertest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	jwk := k.PublicJWK()
	jwk["kid"], jwk["use"], jwk["alg"] = "enc-1", "enc", "RSA-OAEP"
	return jwk
}

func TestMetadataShowsSkippedKeys(t *testing.T) {
	iss := newIssuer(t)
	signing, _ := iss.CurrentKey("RS256")
	hmac := map[string]any{"kty": "oct", "kid": "hmac-1", "alg": "HS256", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}
	iss.SetJWKSHandler(jwksHandler(bearertest.JWKSet{Keys: []map[string]any{signing.PublicJWK(), encryptionKey(t), hmac}}))
	r := bouncer(t, "", "metadata", "--issuer", iss.URL())
	r.wants(t, exitOK,
		"discovery "+iss.DiscoveryURL(),
		`"`+iss.URL()+`" ✓ the issuer asked for`,
		"token_endpoint          "+iss.TokenURL(),
		"Cache-Control  public, max-age=300",
		"keys: 3 published, 1 usable",
		"✓ bouncer can verify this issuer's tokens: 1 usable key",
		"refetched in about ")
	for kid, verdict := range map[string]string{
		signing.ID(): "RSA 2048 bits  RS256     sig  -        verifies signatures",
		"enc-1":      `RSA 2048 bits  RSA-OAEP  enc  -        skips it: use is "enc", not sig`,
		"hmac-1":     "skips it: ",
	} {
		if !strings.Contains(r.stdout, kid) || !strings.Contains(lineOf(r.stdout, kid), verdict) {
			t.Errorf("key %s: line %q lacks %q", kid, lineOf(r.stdout, kid), verdict)
		}
	}
}

func TestMetadataNoUsableKey(t *testing.T) {
	iss := newIssuer(t)
	iss.SetJWKSHandler(jwksHandler(bearertest.JWKSet{Keys: []map[string]any{encryptionKey(t)}}))
	r := bouncer(t, "", "metadata", "--issuer", iss.URL())
	r.wants(t, exitRefused, "keys: 1 published, 0 usable", "the JWKS holds no usable signing key",
		"✗ bouncer cannot verify this issuer's tokens: ", "jwks: no usable signing key")
}

// A discovery document naming another issuer is shown, refused by bouncer,
// and bouncer's log line says what to change.
func TestMetadataIssuerMismatch(t *testing.T) {
	iss := newIssuer(t)
	r := bouncer(t, "", "metadata", "--issuer", iss.URL()+"/")
	r.wants(t, exitRefused,
		`"`+iss.URL()+`" ✗ not "`+iss.URL()+`/"`,
		"✗ bouncer cannot verify this issuer's tokens",
		"bouncer logs, as an API would:",
		"level=ERROR", "names another issuer: set Config.Issuer to exactly the issuer in the document")
}

func TestMetadataIssuerDown(t *testing.T) {
	iss := newIssuer(t)
	iss.SetDown(true)
	r := bouncer(t, "", "metadata", "--issuer", iss.URL())
	if r.code != exitUnavailable || !strings.Contains(r.stderr, "HTTP 503") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func lineOf(s, part string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, part) {
			return l
		}
	}
	return ""
}
