package bearer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// b64 is the only encoding accepted for JWS segments: base64url without
// padding, with non-zero trailing bits refused, so each token has exactly one
// spelling (RFC 7515 §2, RFC 8725 §3.4).
var b64 = base64.RawURLEncoding.Strict()

// header is the part of the JOSE header that verification reads. Key hints
// that would let the token choose its own key (jku, jwk, x5u, x5c) are
// deliberately not read: keys come from the issuer's JWKS only.
type header struct {
	Alg string
	Kid string
	Typ string
}

// jws is a compact JWS split into its parts; payload is decoded. Its
// signature is kept apart (see parseJWS).
type jws struct {
	header       header
	cached       bool   // header came from the cache
	headerLen    int    // length of the encoded header segment
	signingInput string // "<header>.<payload>", what the signature covers
	payload      []byte
}

// parseJWS splits and decodes a compact-serialised JWS, and returns its
// signature, not yet checked. It refuses the JSON serialisation, JWE (five
// segments or an "enc" header) and any "crit" extension, since none is
// understood here (RFC 7515 §4.1.11).
//
// The signature is decoded into sigBuf when it fits, and is returned on
// its own rather than in the jws: the jws's header and payload outlive the
// call (in the header cache, the claims, the trace), and escape analysis
// would move a caller's stack buffer to the heap along with them.
func parseJWS(token string, seen *headerCache, sigBuf []byte) (jws, []byte, *Error) {
	var t jws
	h, rest, ok := strings.Cut(token, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.IndexByte(s, '.') >= 0 {
		return t, nil, segmentsError(token)
	}
	if hdr, ok := seen.get(h); ok {
		t.header, t.cached = *hdr, true
	} else if e := parseHeader(h, &t.header); e != nil {
		return t, nil, e
	}
	var err error
	if t.payload, err = decodeSegment(nil, p); err != nil {
		return t, nil, tokenError(ErrMalformed, "the token payload is not base64url")
	}
	sig, err := decodeSegment(sigBuf, s)
	if err != nil {
		return t, nil, tokenError(ErrMalformed, "the token signature is not base64url")
	}
	t.headerLen = len(h)
	t.signingInput = token[:len(h)+1+len(p)]
	return t, sig, nil
}

// isJWS reports whether token has the form of a compact JWS: three
// dot-separated segments, the first of which is base64url for a JSON
// object. Any other token is opaque, for its issuer to read by
// introspection; a JWS that this verifier refuses to read (a crit header,
// claims it cannot parse) is still a JWS, refused here rather than shown
// to an issuer that may not have minted it. The test decodes the header
// segment alone, and not at all when seen holds it already.
func isJWS(token string, seen *headerCache) bool {
	h, rest, ok := strings.Cut(token, ".")
	if !ok || strings.Count(rest, ".") != 1 {
		return false
	}
	if _, ok := seen.get(h); ok {
		return true
	}
	var buf [256]byte
	b := buf[:0]
	if n := base64.RawURLEncoding.DecodedLen(len(h)); n > len(buf) {
		b = make([]byte, 0, n)
	}
	b, err := base64.RawURLEncoding.AppendDecode(b, bytesOf(h))
	if err != nil {
		return false
	}
	b = bytes.Trim(b, " \t\r\n") // JSON's whitespace
	return len(b) >= 2 && b[0] == '{' && b[len(b)-1] == '}'
}

// segmentsError describes a token that is not three dot-separated segments,
// so that an operator can tell an opaque token from an encrypted one.
func segmentsError(token string) *Error {
	switch n := strings.Count(token, ".") + 1; n {
	case 1:
		return tokenError(ErrMalformed, "the token is not a compact JWS")
	case 5:
		return tokenError(ErrMalformed, "the token is a JWE (five segments): encrypted tokens are not accepted")
	default:
		return tokenError(ErrMalformed, "the token has %d dot-separated segments, not the 3 of a signed JWT", n)
	}
}

// parseHeader reads the JOSE header. Member names are compared exactly and
// may not repeat (RFC 7515 §4): {"alg":"none","ALG":"EdDSA"} has an alg of
// "none", and {"alg":…,"alg":…} has none at all.
func parseHeader(segment string, h *header) *Error {
	hb, err := decodeSegment(nil, segment)
	if err != nil {
		return tokenError(ErrMalformed, "the token header is not base64url")
	}
	var refusal *Error
	err = members(hb, func(name, v []byte) error {
		var err error
		switch string(name) {
		case "alg":
			h.Alg, err = headerString(v)
		case "kid":
			h.Kid, err = headerString(v)
		case "typ":
			h.Typ, err = headerString(v)
		case "enc":
			refusal = tokenError(ErrMalformed, "the token is a JWE (enc header): encrypted tokens are not accepted")
		case "crit":
			refusal = tokenError(ErrMalformed, "the token names critical header extensions that are not supported")
		case "b64":
			// RFC 7797's unencoded payload changes what is signed; it is
			// only legal as a critical extension, which is refused anyway.
			refusal = tokenError(ErrMalformed, "the token uses the unsupported b64 header")
		}
		if err != nil {
			return fmt.Errorf("header %s: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return tokenError(ErrMalformed, "the token header is not a valid JSON object: %v", err)
	}
	return refusal
}

// headerString reads a header member that must be a string.
func headerString(v []byte) (string, error) {
	if v[0] != '"' {
		return "", errClaimType
	}
	return unquote(v), nil
}

// errNewline: encoding/base64 skips CR and LF even in strict mode, which
// would give a segment more than one spelling.
var errNewline = errors.New("line break in a base64url segment")

// decodeSegment decodes s into buf if it fits, else into a new buffer.
func decodeSegment(buf []byte, s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, errNewline
	}
	n := b64.DecodedLen(len(s))
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	n, err := b64.Decode(buf[:n], bytesOf(s))
	return buf[:n], err
}
