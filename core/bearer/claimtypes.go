package bearer

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

var errClaimType = errors.New("unexpected JSON type")

// numericDate is RFC 7519's NumericDate. Only a JSON number is accepted: a
// string such as "1700000000" is refused rather than guessed at.
type numericDate struct {
	time.Time
	Set bool
}

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if isNull(b) {
		return errClaimType
	}
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return errClaimType
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e15 {
		return errClaimType
	}
	sec, frac := math.Modf(f)
	d.Time = time.Unix(int64(sec), int64(frac*1e9))
	d.Set = true
	return nil
}

// stringList is a claim that is one string or an array of strings, as aud
// is in RFC 7519 and roles is across issuers.
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		s, err := unquote(b)
		if err != nil {
			return err
		}
		*l = stringList{s}
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		a, err := stringArray(b)
		*l = a
		return err
	}
	if string(b) == "null" {
		return nil
	}
	return errClaimType
}

// spaceList is a scope claim: a space-separated string (RFC 6749 §3.3,
// Keycloak, oidc-provider, Entra scp) or a JSON array (Spring Authorization
// Server, some scp issuers).
type spaceList []string

func (l *spaceList) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		s, err := unquote(b)
		if err != nil {
			return err
		}
		*l = strings.Fields(s)
		return nil
	}
	return (*stringList)(l).UnmarshalJSON(b)
}

// unquote decodes a JSON string token. The decoder has already validated
// it, so one without escapes is its bytes between the quotes; only escaped
// strings go through the general decoder.
func unquote(b []byte) (string, error) {
	if bytes.IndexByte(b, '\\') < 0 && utf8.Valid(b) {
		return string(b[1 : len(b)-1]), nil
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}
