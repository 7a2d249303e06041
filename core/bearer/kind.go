package bearer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/bouncer-go/bouncer/core/internal/jwtkind"
)

// Tokens of other kinds than access tokens (the Security Event Tokens of
// package ssf) are verified with a Verifier's key handling through package
// jwtkind, which this package fills in: the issuer's keys are discovered,
// refreshed, rotated and kept through outages exactly as for access
// tokens, and the token is read by the same strict readers. What differs
// is its typ (required, and of its kind only), where its issuer's metadata
// lives, and that none of an access token's rules apply: no cache, no
// policies, no validators, no revocation, no decision events.

func init() { jwtkind.New = newKindVerifier }

// kindVerifier verifies tokens of one kind with a Verifier's keys.
type kindVerifier struct {
	v       *Verifier
	profile jwtkind.Profile
}

func newKindVerifier(cfg any, p jwtkind.Profile) (jwtkind.Verifier, error) {
	c, ok := cfg.(Config)
	if !ok {
		return nil, fmt.Errorf("bearer: jwtkind.New needs a bearer.Config, got %T", cfg)
	}
	if len(p.Types) == 0 || p.MetadataURLs == nil {
		return nil, errors.New("bearer: a token kind needs Types and MetadataURLs")
	}
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"Tenants", len(c.Tenants) > 0 || strings.Contains(c.Issuer, TenantPlaceholder)},
		{"RequireAccessTokenType", c.RequireAccessTokenType},
		{"StrictRFC9068", c.StrictRFC9068},
		{"Claims", !c.Claims.isDefault()},
		{"Introspection", c.Introspection != nil},
		{"Revocation", c.Revocation != nil},
		{"Validators", len(c.Validators) > 0},
		{"MaxTokenLifetime", c.MaxTokenLifetime != 0},
		{"DPoP", c.DPoP != nil},
		{"ClientCertHeader", c.ClientCertHeader != ""},
		{"TokenHeader", c.TokenHeader != ""},
		{"TokenCookie", c.TokenCookie != ""},
		{"AllowQueryToken", c.AllowQueryToken},
		{"AllowFormToken", c.AllowFormToken},
		{"ResourceMetadata", c.ResourceMetadata != ""},
		{"IssuerOptional", c.IssuerOptional},
		{"RefusedIssuers", len(c.RefusedIssuers) > 0},
	} {
		if f.set {
			return nil, fmt.Errorf("bearer: Config.%s concerns access tokens; it means nothing for %ss", f.name, p.Name)
		}
	}
	c.Cache = CacheConfig{Disable: true}
	v, err := New(c)
	if err != nil {
		return nil, err
	}
	v.keys.metadataURLs = p.MetadataURLs
	if _, err := p.MetadataURLs(c.Issuer); err != nil {
		return nil, fmt.Errorf("bearer: %w", err)
	}
	return &kindVerifier{v: v, profile: p}, nil
}

// Verify implements jwtkind.Verifier.
func (k *kindVerifier) Verify(ctx context.Context, token string) (jwtkind.Verified, error) {
	var out jwtkind.Verified
	p, payload, e := k.verify(ctx, token)
	if e != nil {
		return out, e
	}
	out.Payload, out.Issuer = payload, p.Iss
	if p.Iat.Set {
		out.IssuedAt = p.Iat.Time
	}
	return out, nil
}

func (k *kindVerifier) verify(ctx context.Context, token string) (*payload, []byte, *Error) {
	v := k.v
	if len(token) > v.maxBytes {
		return nil, nil, tokenError(ErrMalformed, "the token is longer than %d bytes", v.maxBytes)
	}
	var sigBuf [512]byte
	t, sig, e := parseJWS(token, &v.headers, sigBuf[:0])
	if e != nil {
		return nil, nil, e
	}
	var p payload
	if err := parsePayload(t.payload, &p); err != nil {
		return nil, nil, tokenError(ErrMalformed, "the token's claims are malformed: %v", err)
	}
	alg, ok := v.algs[t.header.Alg]
	if !ok {
		return nil, nil, tokenError(ErrAlgorithm, "the token's signing algorithm is not accepted")
	}
	if !k.typeAccepted(t.header.Typ) {
		return nil, nil, tokenError(ErrType, "the token is not a %s (typ %s)", k.profile.Name, k.profile.Types[0])
	}
	if e := v.checkIssuer(&p); e != nil {
		return nil, nil, e
	}
	key, e := v.keys.key(ctx, t.header.Kid, alg)
	if e != nil {
		return nil, nil, e
	}
	if key.alg != "" && key.alg != alg.name {
		return nil, nil, tokenError(ErrAlgorithm, "the token's algorithm differs from its key's")
	}
	if !alg.fits(key.key) {
		return nil, nil, tokenError(ErrAlgorithm, "the token's algorithm does not fit its key type")
	}
	if !alg.verify(key, t.signingInput, sig) {
		return nil, nil, tokenError(ErrSignature, "the token's signature does not verify")
	}
	if e := checkKeyIssuer(key, &p); e != nil {
		return nil, nil, e
	}
	if e := v.checkValidity(&p); e != nil {
		return nil, nil, e
	}
	if !v.anyAud && !slices.ContainsFunc(p.Aud, v.isAudience) {
		return nil, nil, tokenError(ErrAudience, "the token is not meant for this receiver")
	}
	if !t.cached {
		v.headers.offer(token[:t.headerLen], t.header)
	}
	return &p, t.payload, nil
}

// typeAccepted requires one of the kind's types, "application/" optional.
func (k *kindVerifier) typeAccepted(typ string) bool {
	for _, want := range k.profile.Types {
		if strings.EqualFold(typ, want) || strings.EqualFold(typ, "application/"+want) {
			return true
		}
	}
	return false
}

// Ready implements jwtkind.Verifier.
func (k *kindVerifier) Ready(ctx context.Context) error { return k.v.Ready(ctx) }

// Close implements jwtkind.Verifier.
func (k *kindVerifier) Close() error { return k.v.Close() }
