package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// tokenView is what a token says about itself, decoded here for display
// and hints only. Nothing in it is trusted and no decision is taken from
// it: bouncer's verdict comes from package bearer, whose parser is far
// stricter (canonical base64url, no repeated members, UTF-8 only).
type tokenView struct {
	segments  int
	header    json.RawMessage // nil when it does not decode to a JSON object
	claims    json.RawMessage
	signature int // bytes
	problem   string

	alg, kid, typ string
	iss           string
	aud           []string
	iat, nbf, exp time.Time // zero when absent
	typClaim      string    // Keycloak's typ claim: Bearer, ID, Refresh…
	idMarks       []string  // claims only ID tokens carry
	cnf           []string  // the token's proof-of-possession binding
}

// decodeToken decodes a JWT's header and claims, without the signature.
func decodeToken(token string) tokenView {
	parts := strings.Split(token, ".")
	v := tokenView{segments: len(parts)}
	if len(parts) != 3 {
		v.problem = fmt.Sprintf("%d dot-separated segments, not the 3 of a signed JWT", len(parts))
		if len(parts) == 1 {
			v.problem = "no dots: not the 3 segments of a signed JWT"
		}
		return v
	}
	var err error
	if v.header, err = jsonSegment(parts[0]); err != nil {
		v.problem = "header: " + err.Error()
		return v
	}
	if v.claims, err = jsonSegment(parts[1]); err != nil {
		v.problem = "claims: " + err.Error()
		return v
	}
	if sig, err := base64.RawURLEncoding.DecodeString(parts[2]); err == nil {
		v.signature = len(sig)
	}
	var h, c map[string]any
	_ = json.Unmarshal(v.header, &h)
	_ = json.Unmarshal(v.claims, &c)
	v.alg, v.kid, v.typ = text(h["alg"]), text(h["kid"]), text(h["typ"])
	v.iss, v.aud = text(c["iss"]), texts(c["aud"])
	v.iat, v.nbf, v.exp = date(c["iat"]), date(c["nbf"]), date(c["exp"])
	v.typClaim = text(c["typ"])
	for _, m := range []string{"nonce", "at_hash", "c_hash", "s_hash"} {
		if c[m] != nil {
			v.idMarks = append(v.idMarks, m)
		}
	}
	if cnf, ok := c["cnf"].(map[string]any); ok {
		for m := range cnf {
			v.cnf = append(v.cnf, "cnf."+m)
		}
		slices.Sort(v.cnf)
	}
	return v
}

// jsonSegment decodes one base64url segment that must hold a JSON object.
func jsonSegment(s string) (json.RawMessage, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("not base64url")
	}
	b = bytes.TrimSpace(b)
	if !json.Valid(b) || len(b) == 0 || b[0] != '{' {
		return nil, fmt.Errorf("not a JSON object")
	}
	return b, nil
}

func text(v any) string {
	s, _ := v.(string)
	return s
}

// texts reads aud, a string or an array of strings.
func texts(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// date reads a NumericDate (seconds since the epoch).
func date(v any) time.Time {
	f, ok := v.(float64)
	if !ok {
		return time.Time{}
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC()
}

// pretty indents a JSON document for people.
func pretty(raw json.RawMessage, prefix string) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, prefix, "  "); err != nil {
		return prefix + string(raw)
	}
	return prefix + b.String()
}
