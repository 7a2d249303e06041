package bearer

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

var errClaimType = errors.New("unexpected JSON type")

// numericDate is RFC 7519's NumericDate. Only a JSON number is accepted: a
// string such as "1700000000" is refused rather than guessed at.
type numericDate struct {
	time.Time
	Set bool
}

func (d *numericDate) UnmarshalJSON(b []byte) error {
	if b[0] != '-' && (b[0] < '0' || b[0] > '9') {
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
	switch {
	case b[0] == '"':
		*l = stringList{unquote(b)}
		return nil
	case b[0] == '[':
		a, err := stringArray(b)
		*l = a
		return err
	case isNull(b):
		*l = nil
		return nil
	}
	return errClaimType
}

// errScopeSyntax is a scope claim that RFC 6749 §3.3 does not allow.
var errScopeSyntax = errors.New("scope tokens must be printable ASCII separated by single spaces (RFC 6749 §3.3)")

// spaceList is a scope claim: a space-separated string (RFC 6749 §3.3,
// Keycloak, oidc-provider, Entra scp) or a JSON array (Spring Authorization
// Server, some scp issuers). Tokens are split on a single SP and nothing
// else, and every scope token must be RFC 6749's printable ASCII: a string
// holding TAB, LF, NBSP or U+3000 would otherwise be read as several scopes
// by some readers and as one by others.
type spaceList []string

func (l *spaceList) UnmarshalJSON(b []byte) error {
	if b[0] == '"' {
		s := unquote(b)
		if s == "" {
			*l = nil
			return nil
		}
		out := make([]string, 0, strings.Count(s, " ")+1)
		for tok := range strings.SplitSeq(s, " ") {
			if !isScopeToken(tok) {
				return errScopeSyntax
			}
			out = append(out, tok)
		}
		*l = out
		return nil
	}
	if err := (*stringList)(l).UnmarshalJSON(b); err != nil {
		return err
	}
	for _, tok := range *l {
		if !isScopeToken(tok) {
			return errScopeSyntax
		}
	}
	return nil
}

// isScopeToken matches RFC 6749 §3.3's scope-token:
// 1*( %x21 / %x23-5B / %x5D-7E ).
func isScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}
