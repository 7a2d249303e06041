// Package bearermcp protects a Model Context Protocol server, built with the
// official Go SDK (github.com/modelcontextprotocol/go-sdk), with bouncer:
// TokenVerifier makes a bouncer verifier the SDK's auth.TokenVerifier,
// Require wraps the SDK's auth.RequireBearerToken middleware, and Metadata
// and Options serve the RFC 9728 metadata that the MCP authorization spec
// asks of every server over HTTP and point the SDK's challenges to it.
//
// bouncer judges the token (signature, issuer, audience, expiry, validators,
// the issuer's keys fetched and refreshed); the SDK takes the token from the
// Authorization header, checks the scopes its options require, binds MCP
// sessions to the caller, and writes the 401 and 403 answers.
package bearermcp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Verifier is what the SDK needs of bouncer: to verify a bare token, the
// Authorization header having been read by the SDK. *bearer.Verifier and
// *bearer.MultiVerifier are Verifiers.
type Verifier interface {
	Verify(ctx context.Context, token string) (*bearer.Claims, error)
}

// ClaimsKey is the key of the verified *bearer.Claims in TokenInfo.Extra.
// Claims reads it.
const ClaimsKey = "bouncer.claims"

// Option configures TokenVerifier.
type Option func(*tokenVerifier)

// WithAppPermission counts a token that carries the role role as carrying
// scopes too, for the SDK's scope check. Microsoft Entra ID puts an
// application's permissions in roles, never in scp, so a client-credentials
// token from Entra could otherwise never hold the scope an MCP server
// requires: WithAppPermission("Country.Read.All", "country.read") is, for
// MCP, what bearer.RequireScopeOrAppPermission is for bouncer's own
// middleware. Roles are never taken for scopes unless named here: Claims.Roles
// also holds Keycloak's realm roles, which grant no scope.
func WithAppPermission(role string, scopes ...string) Option {
	return func(t *tokenVerifier) {
		t.appPermissions[role] = append(t.appPermissions[role], scopes...)
	}
}

type tokenVerifier struct {
	v              Verifier
	appPermissions map[string][]string
}

// TokenVerifier makes v the SDK's auth.TokenVerifier. An accepted token
// becomes a TokenInfo with:
//
//   - Scopes: Claims.Scopes, and the scopes of WithAppPermission roles;
//   - Expiration: Claims.Expiry;
//   - UserID: the token's issuer and subject, separated by a space (the
//     client ID when the token has no sub), since a subject names one
//     principal only within its issuer. The SDK binds each MCP session to
//     it, so that another caller cannot take the session over;
//   - Extra[ClaimsKey]: the request's copy of the *bearer.Claims, which
//     Claims copies again for each caller.
//
// A refused token is an error wrapping both auth.ErrInvalidToken, which the
// SDK answers with 401, and the *bearer.Error, so that errors.Is still finds
// bouncer's sentinels (bearer.ErrExpired, bearer.ErrAudience…). A token
// that could not be judged because the issuer's keys could not be had is
// the *bearer.Error alone, wrapping bearer.ErrIssuerUnavailable: the token
// may be good, and calling it invalid would send the client to fetch
// another for nothing. The SDK answers such an error with 500; Require
// answers 503 with Retry-After.
//
// It panics if v is nil: a missing verifier is a bug to stop at start, not
// at the first request.
func TokenVerifier(v Verifier, opts ...Option) auth.TokenVerifier {
	if v == nil {
		panic("bearermcp: TokenVerifier: a Verifier (such as a *bearer.Verifier) is required, got nil")
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		panic("bearermcp: TokenVerifier: a Verifier (such as a *bearer.Verifier) is required, got a nil " + rv.Type().String())
	}
	t := &tokenVerifier{v: v, appPermissions: map[string][]string{}}
	for _, o := range opts {
		o(t)
	}
	return t.verify
}

func (t *tokenVerifier) verify(ctx context.Context, token string, _ *http.Request) (*auth.TokenInfo, error) {
	c, err := t.v.Verify(ctx, token)
	if err != nil {
		e := bearer.AsError(err)
		if errors.Is(e, bearer.ErrIssuerUnavailable) {
			return nil, e
		}
		return nil, fmt.Errorf("%w: %w", auth.ErrInvalidToken, e)
	}
	return &auth.TokenInfo{
		Scopes:     t.scopes(c),
		Expiration: c.Expiry,
		UserID:     userID(c),
		Extra:      map[string]any{ClaimsKey: c},
	}, nil
}

// scopes are the token's scopes and those its app permissions stand for.
// A Verifier of one's own may hand out claims that every request with the
// token shares: they are never changed.
func (t *tokenVerifier) scopes(c *bearer.Claims) []string {
	out := c.Scopes
	for _, role := range c.Roles {
		for _, s := range t.appPermissions[role] {
			if !slices.Contains(out, s) {
				out = append(slices.Clip(out), s)
			}
		}
	}
	return out
}

func userID(c *bearer.Claims) string {
	who := c.Subject
	if who == "" {
		who = c.ClientID
	}
	if who == "" {
		return ""
	}
	return c.Issuer + " " + who
}

// Claims returns the verified claims that TokenVerifier put in info: pass
// req.Extra.TokenInfo in a tool handler, or
// auth.TokenInfoFromContext(r.Context()) in an HTTP handler behind the
// middleware. They are a copy of their own for each call (see
// bearer.Claims), so that nothing the handler does to them reaches
// another request.
func Claims(info *auth.TokenInfo) (*bearer.Claims, bool) {
	if info == nil {
		return nil, false
	}
	c, ok := info.Extra[ClaimsKey].(*bearer.Claims)
	return c.Clone(), ok && c != nil
}
