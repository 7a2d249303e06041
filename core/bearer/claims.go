package bearer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	josejson "github.com/go-jose/go-jose/v4/json"
)

// Claims is a verified token's content, normalised across issuers so that
// an API reads the same fields whether the token came from Keycloak, Entra
// ID, Spring Authorization Server or any RFC 9068 issuer.
//
// Every *Claims bouncer hands to application code is that caller's own
// copy: FromContext, each adapter's Claims, Verify and VerifyRequest
// return one, and a Validator or Policy of your own is called with one.
// Changing it (appending to Scopes, setting ClientID) changes nothing for
// bouncer or for any other request: a client sends the same token for its
// whole lifetime, and the claims verified for it are kept, unchanged, to
// answer its next requests. A copy is made only when asked for; the
// built-in policies and validators read the kept claims in place, so that
// a request answered from the cache costs no allocation. The one exception
// is the result of Check, which middleware stores with NewContext (see
// Checker).
//
// A copy put into a context with NewContext is never taken for verified
// claims: Check verifies the request's token all the same.
type Claims struct {
	Issuer    string
	Subject   string
	Audience  []string
	Expiry    time.Time
	IssuedAt  time.Time // zero when the token has no iat
	NotBefore time.Time // zero when the token has no nbf
	ID        string    // jti

	// ClientID is the OAuth client the token was issued to: client_id
	// (RFC 9068, Keycloak), else azp (Entra v2, Keycloak), else appid
	// (Entra v1), unless Config.Claims names other claims.
	ClientID string

	// Scopes merges scope (RFC 8693, Keycloak, Spring) and scp (Entra,
	// some others), each read as a space-separated string or a JSON array,
	// unless Config.Claims names other claims (Auth0's permissions…).
	Scopes []string

	// Roles merges roles (Entra app permissions, RFC 9068 roles) and
	// Keycloak's realm_access.roles, unless Config.Claims names others
	// (groups, authorities…).
	Roles []string

	// ClientRoles holds Keycloak's resource_access.<client>.roles by client.
	ClientRoles map[string][]string

	// TenantID is Entra's tid.
	TenantID string

	raw []byte
	// actors is the delegation chain of act, the current actor first.
	actors []Actor
	// cnf is the token's binding to a key or certificate, checked against
	// each request that presents it.
	cnf binding
	// typed holds what Typed decoded, once per token for every copy of
	// these claims; Typed hands out copies of it, never the values kept.
	typed *sync.Map
	// by is the Verifier that produced these claims and self their own
	// address: Check reuses claims found in a context only when both
	// match, so claims built or copied outside bouncer, Clone's included,
	// are never taken for verified ones.
	by   *Verifier
	self *Claims
	// background is context.Background() carrying these claims, made once
	// when they are verified, so that NewContext on a context that holds
	// nothing else (Fiber's user context) costs no allocation per request.
	background context.Context
}

// verifiedBy reports whether v produced c, unaltered in place.
func (c *Claims) verifiedBy(v *Verifier) bool {
	return c != nil && v != nil && c.self == c && c.by == v
}

// Clone returns a deep copy of c: its own Audience, Scopes, Roles and
// ClientRoles (each list too), which it may change freely, read with
// HasScope, Value, Raw and Typed as c is. FromContext, every adapter's
// Claims, Verify and VerifyRequest already return copies; Clone is for an
// adapter that keeps the claims Check returns in a framework's own store,
// and hands them out from there.
func (c *Claims) Clone() *Claims {
	if c == nil {
		return nil
	}
	d := *c
	d.self = nil // a copy is never taken for verified claims
	d.background = nil
	d.Audience = slices.Clone(c.Audience)
	d.Scopes = slices.Clone(c.Scopes)
	d.Roles = slices.Clone(c.Roles)
	d.actors = slices.Clone(c.actors)
	if c.ClientRoles != nil {
		d.ClientRoles = make(map[string][]string, len(c.ClientRoles))
		for client, roles := range c.ClientRoles {
			d.ClientRoles[client] = slices.Clone(roles)
		}
	}
	return &d
}

// own returns what Verify and VerifyRequest give the application: a copy
// of the accepted claims, which may be kept for later requests.
func own(c *Claims, err error) (*Claims, error) {
	if err != nil {
		return nil, err
	}
	return c.Clone(), nil
}

// HasScope reports whether the token grants scope.
func (c *Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// HasRole reports whether the token carries role.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// Raw returns the token's payload as JSON, unchanged.
func (c *Claims) Raw() json.RawMessage { return bytes.Clone(c.raw) }

// Value returns the JSON value of the top-level claim name, exactly as the
// token has it, and whether the token has that claim.
func (c *Claims) Value(name string) (json.RawMessage, bool) {
	v, ok := c.value(name)
	if !ok {
		return nil, false
	}
	return bytes.Clone(v), true
}

// value is Value without the copy, for readers that neither keep nor
// change it: the validators, which run on every request.
func (c *Claims) value(name string) ([]byte, bool) {
	v, _ := member(c.raw, name)
	return v, v != nil
}

// decode unmarshals the token's payload into v, for Typed. Member names
// match struct tags exactly, unlike encoding/json, which also matches
// "Iss" or "ISS" to a field tagged "iss": what Typed reads is what was
// verified. (Duplicate names never get here: the payload was refused.)
func (c *Claims) decode(v any) error { return josejson.Unmarshal(c.raw, v) }

// payload is what one pass over a token's claims reads. Fields are
// permissive in type where issuers differ (aud, scope, roles) and strict
// where security needs it (time claims must be numbers).
type payload struct {
	Iss            string
	IssSet         bool // iss is present, if only as "" or null
	Sub            string
	Aud            stringList
	Exp, Nbf, Iat  numericDate
	Jti            string
	ClientID       string
	Azp            string
	AppID          string
	Scope, Scp     spaceList
	Roles          stringList
	RealmRoles     stringList
	ResourceAccess map[string][]string
	Tid            string

	// What tells an access token from other tokens an issuer signs.
	Typ         string   // Keycloak's typ claim: "Bearer", "DPoP", "ID", "Refresh"…
	IDTokenMark string   // the first ID-token-only claim present (nonce, at_hash…)
	Cnf         []string // the members of cnf: the token's proof-of-possession binding
	CnfJKT      string   // cnf.jkt: bound to a DPoP key (RFC 9449)
	CnfX5T      string   // cnf.x5t#S256: bound to a TLS client certificate (RFC 8705)

	Act []Actor // the delegation chain of act (RFC 8693), the current actor first
}

// parsePayload reads the claims bouncer interprets; other members are
// skipped, and stay available through Typed and Claims.Value. The whole
// payload is validated on the way (see jsonReader): a token whose claims
// could be read two ways is refused.
func parsePayload(b []byte, p *payload) error {
	return members(b, func(name, v []byte) error {
		var err error
		switch string(name) {
		case "iss":
			p.Iss, err = stringValue(v)
			p.IssSet = true
		case "sub":
			p.Sub, err = stringValue(v)
		case "aud":
			err = p.Aud.UnmarshalJSON(v)
		case "exp":
			err = p.Exp.UnmarshalJSON(v)
		case "nbf":
			err = p.Nbf.UnmarshalJSON(v)
		case "iat":
			err = p.Iat.UnmarshalJSON(v)
		case "jti":
			p.Jti, err = stringValue(v)
		case "client_id":
			p.ClientID, err = stringValue(v)
		case "azp":
			p.Azp, err = stringValue(v)
		case "appid":
			p.AppID, err = stringValue(v)
		case "scope":
			err = p.Scope.UnmarshalJSON(v)
		case "scp":
			err = p.Scp.UnmarshalJSON(v)
		case "roles":
			err = p.Roles.UnmarshalJSON(v)
		case "tid":
			p.Tid, err = stringValue(v)
		case "realm_access":
			err = rolesOf(v, &p.RealmRoles)
		case "resource_access":
			err = p.readResourceAccess(v)
		case "typ":
			if v[0] == '"' {
				p.Typ = unquote(v)
			}
		case "nonce", "at_hash", "c_hash", "s_hash":
			if p.IDTokenMark == "" && !isNull(v) {
				p.IDTokenMark = string(name)
			}
		case "cnf":
			err = p.readCnf(v)
		case "act":
			p.Act, err = readActors(v)
		case "may_act":
			err = checkMayAct(v)
		}
		if err != nil {
			return fmt.Errorf("claim %s: %w", name, err)
		}
		return nil
	})
}

// rolesOf reads Keycloak's {"roles":[…]} objects.
func rolesOf(v []byte, roles *stringList) error {
	if isNull(v) {
		return nil
	}
	if v[0] != '{' {
		return errClaimType
	}
	r, err := member(v, "roles")
	if err != nil || r == nil {
		return err
	}
	return roles.UnmarshalJSON(r)
}

func (p *payload) readResourceAccess(v []byte) error {
	if isNull(v) {
		return nil
	}
	if v[0] != '{' {
		return errClaimType
	}
	p.ResourceAccess = map[string][]string{}
	return members(v, func(client, r []byte) error {
		var roles stringList
		err := rolesOf(r, &roles)
		p.ResourceAccess[string(client)] = roles
		return err
	})
}

// readCnf records the members of the confirmation claim (RFC 7800): jkt for
// DPoP (RFC 9449), x5t#S256 for mutual TLS (RFC 8705), jwk and others for
// proof-of-possession schemes in general.
func (p *payload) readCnf(v []byte) error {
	if isNull(v) {
		return nil
	}
	if v[0] != '{' {
		return errClaimType
	}
	return members(v, func(name, value []byte) error {
		var err error
		switch string(name) {
		case "jkt":
			p.CnfJKT, err = headerString(value)
		case "x5t#S256":
			p.CnfX5T, err = headerString(value)
		}
		p.Cnf = append(p.Cnf, string(name))
		return err
	})
}

func (p *payload) claims(raw []byte) *Claims {
	c := &Claims{
		Subject:  p.Sub,
		Audience: p.Aud,
		ID:       p.Jti,
		ClientID: firstNonEmpty(p.ClientID, p.Azp, p.AppID),
		Scopes:   mergeLists(p.Scope, p.Scp),
		TenantID: p.Tid,
		raw:      raw,
	}
	c.Issuer = p.Iss
	c.Expiry = p.Exp.Time
	c.NotBefore = p.Nbf.Time
	c.IssuedAt = p.Iat.Time
	c.Roles = mergeLists(p.Roles, p.RealmRoles)
	if len(p.ResourceAccess) > 0 {
		c.ClientRoles = p.ResourceAccess
	}
	if len(p.Cnf) > 0 {
		c.cnf = binding{jkt: p.CnfJKT, x5t: p.CnfX5T, members: p.Cnf}
	}
	c.actors = p.Act
	return c
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// mergeLists joins two lists, dropping duplicates, without allocating when
// one of them is empty (the common case).
func mergeLists(a, b []string) []string {
	switch {
	case len(b) == 0:
		return a
	case len(a) == 0:
		return b
	}
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
