package bearer

import (
	"fmt"
	"slices"
	"strings"
)

// ClaimMapping says which claims feed Claims.Scopes, Claims.Roles and
// Claims.ClientID, for issuers that put them elsewhere than bouncer's
// defaults: Auth0 puts API permissions in permissions, Okta and Entra
// groups in groups, Spring applications authorities in authorities with a
// SCOPE_ or ROLE_ prefix. The zero value keeps the defaults.
//
// Scope claims are read with the rules of scope (a space-separated string
// or an array, RFC 6749 §3.3 syntax); role claims as a string or an array
// of strings. A name with dots reads a nested member: "realm_access.roles".
type ClaimMapping struct {
	// Scopes are the claims merged into Claims.Scopes. Empty means
	// "scope" and "scp".
	Scopes []string

	// Roles are the claims merged into Claims.Roles. Empty means "roles"
	// and "realm_access.roles".
	Roles []string

	// ClientID are the claims tried in order for Claims.ClientID. Empty
	// means "client_id", "azp", "appid".
	ClientID []string

	// StripPrefixes are removed from the start of scopes and roles that
	// carry them ("SCOPE_", "ROLE_"), so policies name them plainly.
	StripPrefixes []string

	// ClientIDFromSubject takes sub as the client when none of the
	// ClientID claims is present and sub is also one of the token's
	// audiences. Spring Authorization Server names the client of a
	// client-credentials token only in sub, and addresses every token to
	// its client by default (aud = client id): a user's token has the
	// user in sub, which is no audience, so it is never mislabelled as a
	// client.
	ClientIDFromSubject bool
}

// isDefault reports whether m changes nothing, so the fast reading of the
// default claims stands.
func (m *ClaimMapping) isDefault() bool {
	return len(m.Scopes) == 0 && len(m.Roles) == 0 && len(m.ClientID) == 0 && len(m.StripPrefixes) == 0 && !m.ClientIDFromSubject
}

func (m *ClaimMapping) validate() error {
	for _, name := range slices.Concat(m.Scopes, m.Roles, m.ClientID) {
		if name == "" || strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
			return fmt.Errorf("bearer: Config.Claims names the claim %q", name)
		}
	}
	return nil
}

// apply fills c's mapped fields from the token's payload, which has been
// validated: any claim of the wrong type is refused.
func (m *ClaimMapping) apply(c *Claims, p *payload) error {
	if len(m.Scopes) > 0 {
		c.Scopes = nil
		for _, name := range m.Scopes {
			var l spaceList
			if err := readPath(c.raw, name, &l); err != nil {
				return fmt.Errorf("claim %s: %w", name, err)
			}
			c.Scopes = mergeLists(c.Scopes, l)
		}
	}
	if len(m.Roles) > 0 {
		c.Roles = nil
		for _, name := range m.Roles {
			var l stringList
			if err := readPath(c.raw, name, &l); err != nil {
				return fmt.Errorf("claim %s: %w", name, err)
			}
			c.Roles = mergeLists(c.Roles, l)
		}
	}
	if len(m.ClientID) > 0 {
		c.ClientID = ""
		for _, name := range m.ClientID {
			var id stringList
			if err := readPath(c.raw, name, &id); err != nil || len(id) > 1 {
				return fmt.Errorf("claim %s: %w", name, errClaimType)
			}
			if len(id) == 1 && id[0] != "" {
				c.ClientID = id[0]
				break
			}
		}
	}
	if c.ClientID == "" && m.ClientIDFromSubject && p.Sub != "" && slices.Contains(c.Audience, p.Sub) {
		c.ClientID = p.Sub
	}
	if len(m.StripPrefixes) > 0 {
		c.Scopes = stripPrefixes(c.Scopes, m.StripPrefixes)
		c.Roles = stripPrefixes(c.Roles, m.StripPrefixes)
	}
	return nil
}

// readPath reads the claim at a dotted path into dst; a missing claim (or
// a missing step of the path) leaves dst empty.
func readPath(raw []byte, path string, dst interface{ UnmarshalJSON([]byte) error }) error {
	v := raw
	for step := range strings.SplitSeq(path, ".") {
		if v[0] != '{' {
			return nil // not an object on the way: nothing there
		}
		next, err := member(v, step)
		if err != nil || next == nil {
			return err
		}
		v = next
	}
	return dst.UnmarshalJSON(v)
}

func stripPrefixes(list, prefixes []string) []string {
	out := make([]string, 0, len(list))
	for _, s := range list {
		for _, p := range prefixes {
			if t, ok := strings.CutPrefix(s, p); ok && t != "" {
				s = t
				break
			}
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
