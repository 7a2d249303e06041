package gateway

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// The upstream headers set by default.
const (
	DefaultClientIDHeader = "X-Auth-Client-Id"
	DefaultSubjectHeader  = "X-Auth-Subject"
	DefaultScopesHeader   = "X-Auth-Scopes"
	DefaultIssuerHeader   = "X-Auth-Issuer"
)

// claimHeaders says which claims go upstream in which headers.
type claimHeaders struct {
	clientID, subject, scopes, issuer, roles string // canonical; "" when off
	claims                                   []claimHeader
	all                                      []string // every header above, for removal
}

type claimHeader struct {
	claim  string // top-level or dotted
	header string
}

// header is one header to set upstream.
type header struct{ name, value string }

func newClaimHeaders(u UpstreamHeaders) *claimHeaders {
	pick := func(configured, def string) string {
		switch configured {
		case "-":
			return ""
		case "":
			return def
		}
		return http.CanonicalHeaderKey(configured)
	}
	h := &claimHeaders{
		clientID: pick(u.ClientID, DefaultClientIDHeader),
		subject:  pick(u.Subject, DefaultSubjectHeader),
		scopes:   pick(u.Scopes, DefaultScopesHeader),
		issuer:   pick(u.Issuer, DefaultIssuerHeader),
		roles:    pick(u.Roles, ""),
	}
	for _, claim := range sortedKeys(u.Claims) {
		h.claims = append(h.claims, claimHeader{claim, http.CanonicalHeaderKey(u.Claims[claim])})
	}
	for _, name := range []string{h.clientID, h.subject, h.scopes, h.issuer, h.roles} {
		if name != "" {
			h.all = append(h.all, name)
		}
	}
	for _, c := range h.claims {
		h.all = append(h.all, c.header)
	}
	return h
}

// values are the headers c gives, and the configured headers it does not
// give, which must be removed from what the client sent. Without claims
// (an optional route without a token, a skipped route) every configured
// header is removed.
func (h *claimHeaders) values(c *bearer.Claims) (set []header, remove []string) {
	add := func(name, value string) {
		if name == "" {
			return
		}
		if value == "" {
			remove = append(remove, name)
			return
		}
		set = append(set, header{name, headerValue(value)})
	}
	if c == nil {
		return nil, h.all
	}
	set = make([]header, 0, len(h.all))
	add(h.clientID, c.ClientID)
	add(h.subject, c.Subject)
	add(h.scopes, strings.Join(c.Scopes, " "))
	add(h.issuer, c.Issuer)
	add(h.roles, strings.Join(c.Roles, ","))
	for _, ch := range h.claims {
		add(ch.header, claimText(c, ch.claim))
	}
	return set, remove
}

// claimText renders a claim for a header: a string as it is, an array of
// strings comma-separated, anything else as compact JSON; "" when the
// token has no such claim (or null).
func claimText(c *bearer.Claims, path string) string {
	first, rest, nested := strings.Cut(path, ".")
	raw, ok := c.Value(first)
	if !ok {
		return ""
	}
	if nested {
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return ""
		}
		for step := range strings.SplitSeq(rest, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				return ""
			}
			if v, ok = m[step]; !ok {
				return ""
			}
		}
		if raw, _ = json.Marshal(v); raw == nil {
			return ""
		}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil {
		return strings.Join(list, ",")
	}
	if string(raw) == "null" {
		return ""
	}
	var compact bytes.Buffer
	if json.Compact(&compact, raw) != nil {
		return ""
	}
	return compact.String()
}

// headerValue keeps printable ASCII as it is and percent-encodes every
// other byte, and "%" itself (RFC 3986), so that no claim can split a
// header, smuggle another one, or reach an upstream in a form it reads
// differently from the gateway.
func headerValue(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '%' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '%' {
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
