package main

import (
	"fmt"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// detail says what a step saw; failed when bouncer refused at it.
func (x *explanation) detail(name string, failed bool) string {
	t := x.token
	switch name {
	case "format":
		if t.problem != "" {
			return t.problem
		}
		return fmt.Sprintf("a signed JWT: header, claims and a %d-byte signature", t.signature)
	case "kind":
		return x.kind(failed)
	case "algorithm":
		if failed {
			return fmt.Sprintf("alg %q; bouncer accepts %s", t.alg, strings.Join(bearer.DefaultAlgorithms, ", "))
		}
		return "alg " + t.alg
	case "type":
		if t.typ == "" {
			return "no typ header"
		}
		return fmt.Sprintf("typ header %q", t.typ)
	case "issuer":
		if failed {
			return fmt.Sprintf("the token's iss %q; --issuer %q", t.iss, x.opts.issuer)
		}
		return fmt.Sprintf("iss %q", t.iss)
	case "discovery":
		return x.discovery(failed)
	case "keys":
		return x.keySet(failed)
	case "key":
		return x.tokenKey(failed)
	case "signature":
		if failed {
			return "does not verify with the key of kid " + quoteOr(t.kid, "(none)")
		}
		return "verifies"
	case "times":
		return x.times()
	case "audience":
		return fmt.Sprintf("the token's aud %s; --audience %s", quoteList(t.aud), quoteList(x.opts.audiences))
	case "revocation":
		return x.revocation(failed)
	case "scopes":
		return x.grants(failed)
	}
	return ""
}

func (x *explanation) kind(failed bool) string {
	t := x.token
	switch {
	case !failed && len(t.idMarks) > 0:
		// Keycloak's access tokens may carry a nonce; their typ claim
		// says what they are.
		return fmt.Sprintf("an access token by its typ claim %q, though it carries %s; no cnf binding", t.typClaim, strings.Join(t.idMarks, ", "))
	case !failed && t.typClaim != "":
		return fmt.Sprintf("an access token: typ claim %q, no cnf binding", t.typClaim)
	case !failed:
		return "an access token: no ID-token claims (nonce, at_hash…), no cnf binding"
	}
	var seen []string
	if t.typClaim != "" {
		seen = append(seen, fmt.Sprintf("typ claim %q", t.typClaim))
	}
	seen = append(seen, t.idMarks...)
	seen = append(seen, t.cnf...)
	return "the token carries " + strings.Join(seen, ", ")
}

func (x *explanation) discovery(failed bool) string {
	if failed {
		return "bouncer's fetch failed: " + x.fetchError()
	}
	if x.discErr != nil {
		return "read by bouncer (read again for display: " + x.discErr.Error() + ")"
	}
	return fmt.Sprintf("%s names issuer %q", x.disc.url, x.disc.Issuer)
}

func (x *explanation) keySet(failed bool) string {
	if failed {
		return "bouncer's fetch failed: " + x.fetchError()
	}
	usable := 0
	if ok := x.rec.of(bearer.EventFetchSucceeded); len(ok) > 0 {
		usable = ok[len(ok)-1].Keys
	}
	s := fmt.Sprintf("%d usable signing key(s)", usable)
	if x.disc != nil && x.keysErr == nil {
		s = fmt.Sprintf("%d usable of %d published at %s", usable, len(x.keys), x.disc.JWKSURI)
	}
	var skipped []string
	for _, e := range x.skipped() {
		skipped = append(skipped, fmt.Sprintf("kid %s (%v)", quoteOr(e.KeyID, "(none)"), e.Err))
	}
	if len(skipped) > 0 {
		s += "; skipped: " + strings.Join(skipped, "; ")
	}
	return s
}

func (x *explanation) tokenKey(failed bool) string {
	kid := x.token.kid
	k, published := x.key(kid)
	switch {
	case failed && kid == "":
		return fmt.Sprintf("the token has no kid, and not exactly one usable key fits %s", x.token.alg)
	case failed && bearer.Reason(x.err) == "algorithm":
		return fmt.Sprintf("kid %q is a %s key published for alg %s; the token says %s", kid, k.shape(), orDefault(k.Alg, "(none)"), x.token.alg)
	case failed:
		return fmt.Sprintf("kid %q is not among the usable keys: %s", kid, quoteList(x.usableKids()))
	case kid == "":
		return fmt.Sprintf("no kid; the one usable key fitting %s", x.token.alg)
	case published:
		return fmt.Sprintf("kid %q: %s, alg %s", kid, k.shape(), orDefault(k.Alg, "(none)"))
	}
	return fmt.Sprintf("kid %q", kid)
}

func (x *explanation) times() string {
	t, now := x.token, x.at
	var parts []string
	if !t.iat.IsZero() {
		parts = append(parts, "issued "+relative(t.iat, now))
	}
	if !t.nbf.IsZero() {
		parts = append(parts, "valid from "+relative(t.nbf, now))
	}
	switch {
	case t.exp.IsZero():
		parts = append(parts, "no exp")
	case t.exp.After(now):
		parts = append(parts, "expires "+relative(t.exp, now))
	default:
		parts = append(parts, "expired "+relative(t.exp, now))
	}
	return strings.Join(append(parts, "leeway "+human(x.opts.leeway)), ", ")
}

// grants lists what the token grants, as bouncer normalised it, and what
// the route asks.
func (x *explanation) grants(failed bool) string {
	s := "scopes " + quoteList(x.claims.Scopes) + ", roles " + quoteList(x.claims.Roles)
	asked := x.asked()
	switch {
	case asked == "":
		return s + "; nothing asked (--scope, --role)"
	case failed:
		return s + "; asked " + asked
	}
	return s + "; asked " + asked + ": granted"
}

// asked is what the route's policies ask, for people.
func (x *explanation) asked() string {
	var parts []string
	if s := x.opts.scopes.words(); len(s) > 0 {
		parts = append(parts, "scope "+strings.Join(s, " "))
	}
	if len(x.opts.roles) > 0 {
		parts = append(parts, "role "+strings.Join(x.opts.roles, " "))
	}
	return strings.Join(parts, " and ")
}

func quoteList(s []string) string {
	if len(s) == 0 {
		return "(none)"
	}
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

func quoteOr(s, none string) string {
	if s == "" {
		return none
	}
	return fmt.Sprintf("%q", s)
}
