package bearertest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// DPoP (RFC 9449) binds a token to a key of the client's: the token
// carries the key's thumbprint in cnf.jkt, and every request carries a
// proof signed with the key. A test makes the client's side with a Key:
// [Key.Thumbprint] to mint a bound token ({"cnf": {"jkt": …}}), and
// [Key.DPoPProof] for each request.

// Thumbprint is the key's RFC 7638 SHA-256 thumbprint, base64url, as a
// token bound to it carries in cnf.jkt.
func (k *Key) Thumbprint() string {
	jwk := k.PublicJWK()
	if jwk == nil {
		return ""
	}
	return jwkThumbprint(jwk)
}

// jwkThumbprint is the RFC 7638 SHA-256 thumbprint of a public JWK.
func jwkThumbprint(jwk map[string]any) string {
	// The required members only, in lexicographic order, without spaces:
	// encoding/json writes map keys sorted.
	kty, _ := jwk["kty"].(string)
	required := map[string]any{"kty": kty}
	for _, m := range map[string][]string{"RSA": {"e", "n"}, "EC": {"crv", "x", "y"}, "OKP": {"crv", "x"}}[kty] {
		required[m] = jwk[m]
	}
	b, _ := json.Marshal(required)
	sum := sha256.Sum256(b)
	return b64(sum[:])
}

// ProofOption changes a proof made by [Key.DPoPProof].
type ProofOption func(header, claims map[string]any)

// WithProofClaim sets a claim of the proof (nil removes it), e.g. "iat" to
// date it or "jti" to replay one.
func WithProofClaim(name string, value any) ProofOption {
	return func(_, claims map[string]any) { setOrDelete(claims, name, value) }
}

// WithProofHeader sets a header member of the proof (nil removes it).
func WithProofHeader(name string, value any) ProofOption {
	return func(header, _ map[string]any) { setOrDelete(header, name, value) }
}

func setOrDelete(m map[string]any, name string, value any) {
	if value == nil {
		delete(m, name)
	} else {
		m[name] = value
	}
}

// DPoPProof makes a DPoP proof for a request: method and URL (its htm and
// htu), the access token it presents (ath; "" for a token request), and
// the server's nonce if it asked for one (""). The proof is signed with k
// and carries its public JWK, typ dpop+jwt, a fresh jti and iat now.
func (k *Key) DPoPProof(method, url, accessToken, nonce string, opts ...ProofOption) (string, error) {
	header := map[string]any{"typ": "dpop+jwt", "alg": k.alg, "jwk": k.PublicJWK()}
	claims := map[string]any{"jti": randomID(), "htm": method, "htu": url, "iat": time.Now().Unix()}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64(sum[:])
	}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	for _, o := range opts {
		o(header, claims)
	}
	a, err := lookupAlgorithm(k.alg)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return compactJWS(header, payload, a, k)
}

// proofThumbprint reads the key of the DPoP proof of a token request, to
// bind the token to it. The test issuer does not check the proof: that is
// the resource server's part, which is what bouncer tests.
func proofThumbprint(proofs []string) (string, *tokenError) {
	bad := badRequest("invalid_dpop_proof", "the DPoP proof cannot be read")
	if len(proofs) != 1 {
		return "", bad
	}
	h, _, _ := strings.Cut(proofs[0], ".")
	raw, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		return "", bad
	}
	var header struct {
		JWK map[string]any `json:"jwk"`
	}
	if json.Unmarshal(raw, &header) != nil || header.JWK == nil {
		return "", bad
	}
	return jwkThumbprint(header.JWK), nil
}
