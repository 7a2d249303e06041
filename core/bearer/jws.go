package bearer

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// b64 is the only encoding accepted for JWS segments: base64url without
// padding, with non-zero trailing bits refused, so each token has exactly one
// spelling (RFC 7515 §2, RFC 8725 §3.4).
var b64 = base64.RawURLEncoding.Strict()

// header is the part of the JOSE header that verification reads. Key hints
// that would let the token choose its own key (jku, jwk, x5u, x5c) are
// deliberately absent: keys come from the issuer's JWKS only.
type header struct {
	Alg  string          `json:"alg"`
	Kid  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Enc  string          `json:"enc"`
	Crit json.RawMessage `json:"crit"`
}

// jws is a compact JWS split into its parts; payload is decoded, the
// signature is not yet checked.
type jws struct {
	header       header
	signingInput string // "<header>.<payload>", what the signature covers
	payload      []byte
	signature    []byte
}

// parseJWS splits and decodes a compact-serialised JWS. It refuses the JSON
// serialisation, JWE (five segments or an "enc" header) and any "crit"
// extension, since none is understood here (RFC 7515 §4.1.11).
func parseJWS(token string, seen *headerCache) (*jws, *Error) {
	h, rest, ok := strings.Cut(token, ".")
	if !ok {
		return nil, tokenError(ErrMalformed, "the token is not a compact JWS")
	}
	p, s, ok := strings.Cut(rest, ".")
	if !ok || strings.IndexByte(s, '.') >= 0 {
		return nil, tokenError(ErrMalformed, "the token is not a compact JWS (encrypted tokens are not accepted)")
	}
	var t jws
	if hdr, ok := seen.get(h); ok {
		t.header = *hdr
	} else if e := parseHeader(h, &t.header); e != nil {
		return nil, e
	}
	var err error
	if t.payload, err = decodeSegment(p); err != nil {
		return nil, tokenError(ErrMalformed, "the token payload is not base64url")
	}
	if t.signature, err = decodeSegment(s); err != nil {
		return nil, tokenError(ErrMalformed, "the token signature is not base64url")
	}
	t.signingInput = token[:len(h)+1+len(p)]
	return &t, nil
}

func parseHeader(segment string, h *header) *Error {
	hb, err := decodeSegment(segment)
	if err != nil {
		return tokenError(ErrMalformed, "the token header is not base64url")
	}
	if json.Unmarshal(hb, h) != nil {
		return tokenError(ErrMalformed, "the token header is not a JSON object")
	}
	if h.Enc != "" {
		return tokenError(ErrMalformed, "encrypted tokens are not accepted")
	}
	if h.Crit != nil {
		return tokenError(ErrMalformed, "the token names critical header extensions that are not supported")
	}
	return nil
}

func decodeSegment(s string) ([]byte, error) {
	out := make([]byte, b64.DecodedLen(len(s)))
	n, err := b64.Decode(out, []byte(s))
	return out[:n], err
}
