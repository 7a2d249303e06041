package bearertest

import (
	"encoding/json"
	"fmt"
	"testing"
)

// A MintOption changes how [Issuer.Mint] signs a token.
type MintOption func(*mintConfig)

type mintConfig struct {
	alg       string
	key       *Key
	headers   []headerField
	rawHeader []byte
}

type headerField struct {
	name  string
	value any
}

// WithAlg signs with the algorithm alg (see [Algorithms]) and the issuer's
// current key for it, or with the key of [WithKey], which must be of a
// matching type. "none" yields an unsecured token with an empty signature and
// no "kid". Any other value makes Mint fail; to put an unknown "alg" in the
// header, use [WithHeader].
func WithAlg(alg string) MintOption {
	return func(c *mintConfig) { c.alg = alg }
}

// WithKey signs with k instead of a key of the issuer; without [WithAlg], the
// algorithm is k.Alg(). The header's "kid" is k.ID(). The key need not be
// published, which is how a test mints a token from an unknown key.
func WithKey(k *Key) MintOption {
	return func(c *mintConfig) { c.key = k }
}

// WithHeader sets the JOSE header field name to value after the defaults are
// filled in; a nil value removes the field. The header is only what the token
// claims: setting "alg" changes the header but not how the token is signed,
// which is what a test of algorithm confusion needs.
func WithHeader(name string, value any) MintOption {
	return func(c *mintConfig) { c.headers = append(c.headers, headerField{name, value}) }
}

// WithRawHeader uses header, byte for byte, as the JOSE header, instead of
// the one Mint would build: for tests of headers no map can express, such
// as a repeated member or two members differing only in case. The token is
// still signed as [WithAlg] and [WithKey] say (RS256 with the issuer's
// current key by default); [WithHeader] has no effect.
func WithRawHeader(header []byte) MintOption {
	return func(c *mintConfig) { c.rawHeader = header }
}

// Mint returns a signed JWT access token (RFC 9068) with these claims on top
// of the defaults:
//
//   - iss: [Issuer.URL]
//   - sub: [DefaultSubject]
//   - client_id: the "sub" claim if it is a string, else [DefaultSubject]
//   - aud: the audience of [WithAudience]
//   - iat: the issuer's clock, in seconds since the epoch
//   - exp: iat plus the token TTL
//   - jti: a random ID
//
// A claim given as nil is left out of the token, so that a test can drop
// "exp" or "aud"; to send a JSON null, pass json.RawMessage("null"). The
// header is {"alg":A,"kid":K,"typ":"at+jwt"}, where A is the token algorithm
// (RS256 unless [WithTokenAlg] chose another) and K the ID of the issuer's
// current key for it, unless options change it. Mint fails on an unknown algorithm, a key that does not
// fit it, or claims that cannot be encoded as JSON.
func (i *Issuer) Mint(claims map[string]any, opts ...MintOption) (string, error) {
	payload, err := json.Marshal(i.claims(claims))
	if err != nil {
		return "", fmt.Errorf("bearertest: encoding claims: %w", err)
	}
	return i.MintPayload(payload, opts...)
}

// MustMint is [Issuer.Mint] for tests: it stops the test on error.
func (i *Issuer) MustMint(t testing.TB, claims map[string]any, opts ...MintOption) string {
	t.Helper()
	tok, err := i.Mint(claims, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// MintPayload signs payload as it is, with the header of [Issuer.Mint], so
// that a test can send claims that are not a JSON object, or not JSON at all.
func (i *Issuer) MintPayload(payload []byte, opts ...MintOption) (string, error) {
	var mc mintConfig
	for _, opt := range opts {
		if opt != nil {
			opt(&mc)
		}
	}
	alg := mc.alg
	if alg == "" {
		alg = i.cfg.tokenAlg
		if mc.key != nil {
			alg = mc.key.alg
		}
	}
	a, err := lookupAlgorithm(alg)
	if err != nil {
		return "", err
	}

	header := map[string]any{"alg": alg, "typ": "at+jwt"}
	key := mc.key
	switch {
	case a.keyType == keyNone:
		key = nil
	case key == nil:
		if key, err = i.CurrentKey(alg); err != nil {
			return "", err
		}
	case !key.fits(a):
		return "", fmt.Errorf("bearertest: key %q cannot sign %s", key.ID(), alg)
	}
	if key != nil {
		header["kid"] = key.id
	}
	for _, f := range mc.headers {
		if f.value == nil {
			delete(header, f.name)
		} else {
			header[f.name] = f.value
		}
	}
	if mc.rawHeader != nil {
		return signJWS(mc.rawHeader, payload, a, key)
	}
	return compactJWS(header, payload, a, key)
}

// claims merges the caller's claims over the defaults.
func (i *Issuer) claims(given map[string]any) map[string]any {
	now := i.cfg.now()
	c := map[string]any{
		"iss": i.url,
		"sub": DefaultSubject,
		"aud": i.cfg.audience,
		"iat": now.Unix(),
		"exp": now.Add(i.cfg.ttl).Unix(),
		"jti": randomID(),
	}
	if i.cfg.tenants {
		tid := DefaultTenant
		if t, ok := given["tid"].(string); ok {
			tid = t
		}
		c["tid"], c["iss"] = tid, i.TenantIssuer(tid)
	}
	for name, v := range given {
		if v == nil {
			delete(c, name)
		} else {
			c[name] = v
		}
	}
	if _, set := given["client_id"]; !set {
		c["client_id"] = DefaultSubject
		if sub, ok := c["sub"].(string); ok {
			c["client_id"] = sub
		}
	}
	return c
}
