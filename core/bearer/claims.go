package bearer

import (
	"bytes"
	"encoding/json"
	"slices"
	"time"
)

// Claims is a verified token's content, normalised across issuers so that
// an API reads the same fields whether the token came from Keycloak, Entra
// ID, Spring Authorization Server or any RFC 9068 issuer.
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
	// (Entra v1).
	ClientID string

	// Scopes merges scope (RFC 8693, Keycloak, Spring) and scp (Entra,
	// some others), each read as a space-separated string or a JSON array.
	Scopes []string

	// Roles merges roles (Entra app permissions, RFC 9068 roles) and
	// Keycloak's realm_access.roles.
	Roles []string

	// ClientRoles holds Keycloak's resource_access.<client>.roles by client.
	ClientRoles map[string][]string

	// TenantID is Entra's tid.
	TenantID string

	raw []byte
}

// HasScope reports whether the token grants scope.
func (c *Claims) HasScope(scope string) bool { return slices.Contains(c.Scopes, scope) }

// HasRole reports whether the token carries role.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// Raw returns the token's payload as JSON, unchanged.
func (c *Claims) Raw() json.RawMessage { return bytes.Clone(c.raw) }

// Decode unmarshals the token's payload into v, for claims that Claims does
// not normalise (an application's own claims, Keycloak's
// preferred_username, Entra's oid…).
func (c *Claims) Decode(v any) error { return json.Unmarshal(c.raw, v) }

// payload is the wire shape read from every token in one pass. Fields are
// permissive in type where issuers differ and strict where security needs
// it (time claims must be numbers).
type payload struct {
	Iss            *string                `json:"iss"`
	Sub            string                 `json:"sub"`
	Aud            stringList             `json:"aud"`
	Exp            *numericDate           `json:"exp"`
	Nbf            *numericDate           `json:"nbf"`
	Iat            *numericDate           `json:"iat"`
	Jti            string                 `json:"jti"`
	ClientID       string                 `json:"client_id"`
	Azp            string                 `json:"azp"`
	AppID          string                 `json:"appid"`
	Scope          spaceList              `json:"scope"`
	Scp            spaceList              `json:"scp"`
	Roles          stringList             `json:"roles"`
	RealmAccess    *accessRoles           `json:"realm_access"`
	ResourceAccess map[string]accessRoles `json:"resource_access"`
	Tid            string                 `json:"tid"`
}

type accessRoles struct {
	Roles stringList `json:"roles"`
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
	if p.Iss != nil {
		c.Issuer = *p.Iss
	}
	if p.Exp != nil {
		c.Expiry = p.Exp.Time
	}
	if p.Nbf != nil {
		c.NotBefore = p.Nbf.Time
	}
	if p.Iat != nil {
		c.IssuedAt = p.Iat.Time
	}
	c.Roles = p.Roles
	if p.RealmAccess != nil {
		c.Roles = mergeLists(c.Roles, p.RealmAccess.Roles)
	}
	if len(p.ResourceAccess) > 0 {
		c.ClientRoles = make(map[string][]string, len(p.ResourceAccess))
		for client, a := range p.ResourceAccess {
			c.ClientRoles[client] = a.Roles
		}
	}
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
