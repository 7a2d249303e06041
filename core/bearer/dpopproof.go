package bearer

import (
	"strings"
)

// proof is a parsed DPoP proof JWT, its signature not yet checked.
type proof struct {
	alg          string
	jwk          []byte
	signingInput string
	signature    []byte
	jti, htm     string
	htu, ath     string
	nonce        string
	iat          numericDate
}

// parseProof reads a DPoP proof with the strict reader of tokens: exact
// member names, none repeated. Its header must say typ dpop+jwt and carry
// the key as a jwk; any crit, enc or b64 is refused.
func parseProof(s string) (*proof, *Error) {
	h, rest, ok := strings.Cut(s, ".")
	pl, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.IndexByte(sig, '.') >= 0 {
		return nil, proofError("the DPoP proof is not a compact JWS")
	}
	hb, err := decodeSegment(nil, h)
	if err != nil {
		return nil, proofError("the DPoP proof's header is not base64url")
	}
	p := &proof{signingInput: s[:len(h)+1+len(pl)]}
	var typ string
	var refused bool
	if err := members(hb, func(name, v []byte) error {
		var err error
		switch string(name) {
		case "typ":
			typ, err = headerString(v)
		case "alg":
			p.alg, err = headerString(v)
		case "jwk":
			if v[0] != '{' {
				return errClaimType
			}
			p.jwk = v
		case "crit", "enc", "b64":
			refused = true
		}
		return err
	}); err != nil {
		return nil, proofError("the DPoP proof's header is not a JSON object of one reading")
	}
	switch {
	case refused:
		return nil, proofError("the DPoP proof's header has crit, enc or b64")
	case !strings.EqualFold(typ, "dpop+jwt"):
		return nil, proofError("the DPoP proof's typ is not dpop+jwt")
	case p.jwk == nil:
		return nil, proofError("the DPoP proof has no jwk header")
	}
	payload, err := decodeSegment(nil, pl)
	if err != nil {
		return nil, proofError("the DPoP proof's claims are not base64url")
	}
	if p.signature, err = decodeSegment(nil, sig); err != nil {
		return nil, proofError("the DPoP proof's signature is not base64url")
	}
	if err := members(payload, func(name, v []byte) error {
		var err error
		switch string(name) {
		case "jti":
			p.jti, err = headerString(v)
		case "htm":
			p.htm, err = headerString(v)
		case "htu":
			p.htu, err = headerString(v)
		case "ath":
			p.ath, err = headerString(v)
		case "nonce":
			p.nonce, err = headerString(v)
		case "iat":
			err = p.iat.UnmarshalJSON(v)
		}
		return err
	}); err != nil {
		return nil, proofError("the DPoP proof's claims are not a JSON object of one reading, with strings and a numeric iat")
	}
	return p, nil
}
