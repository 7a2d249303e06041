package bearer

import (
	"context"
	"slices"
	"sync"
)

// Verify checks a token and returns its claims. A refusal is an *Error
// wrapping one of the Err sentinels: ErrMalformed, ErrAlgorithm, ErrType,
// ErrUnknownKey, ErrSignature, ErrIssuer, ErrAudience, ErrExpired,
// ErrNotYetValid, or ErrIssuerUnavailable when the issuer's keys cannot be
// had.
//
// A token bound to a key or certificate (cnf) is refused: only a request
// can prove its possession (see VerifyRequest).
//
// The claims are the caller's own copy (see Claims).
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	tr := v.tel.begin()
	c, e, ok := v.cached(ctx, token, &tr)
	if !ok {
		c, e = v.verify(ctx, token, &tr)
	}
	if e == nil {
		e = checkBinding(c, presentation{})
	}
	return own(decided(ctx, v.tel, &tr, c, e))
}

// decided reports a decision and returns it as Verify does.
func decided(ctx context.Context, t *telemetry, tr *trace, c *Claims, e *Error) (*Claims, error) {
	if e != nil {
		t.decide(ctx, tr, c, e)
		return nil, e
	}
	t.decide(ctx, tr, c, nil)
	return c, nil
}

// verify judges a token that the cache of judged tokens did not answer
// for: its callers look there first.
func (v *Verifier) verify(ctx context.Context, token string, tr *trace) (*Claims, *Error) {
	if len(token) > v.maxBytes {
		return nil, tokenError(ErrMalformed, "the token is longer than %d bytes", v.maxBytes)
	}
	if v.introspect != nil {
		if !isJWS(token, &v.headers) {
			return v.introspectToken(ctx, token)
		}
		if v.introspect.cfg.AllTokens {
			return v.introspectJWS(ctx, token, tr)
		}
	}
	return v.verifyJWS(ctx, token, tr)
}

// introspectJWS reads a JWT, for Introspection.AllTokens, and asks the
// issuer about it once it is found to be this issuer's.
func (v *Verifier) introspectJWS(ctx context.Context, token string, tr *trace) (*Claims, *Error) {
	var p payload
	t, _, e := readJWT(token, &v.headers, nil, &p, tr)
	if e != nil {
		return nil, e
	}
	return v.introspectJWT(ctx, &t, &p, token)
}

// introspectJWT asks the issuer about a JWT that readJWT read
// (Introspection.AllTokens), once its typ is accepted (RFC 9068's, with
// RequireAccessTokenType or StrictRFC9068) and its iss is found to be this
// issuer: a token is never shown to an issuer that did not mint it. The
// answer is then judged as any introspection answer is.
func (v *Verifier) introspectJWT(ctx context.Context, t *jws, p *payload, token string) (*Claims, *Error) {
	if !v.typeAccepted(t.header.Typ) {
		return nil, tokenError(ErrType, "the token's type is not an access token type")
	}
	if e := v.checkIssuer(p); e != nil {
		return nil, e
	}
	return v.introspectToken(ctx, token)
}

// cached answers from the cache of judged tokens, when it can.
func (v *Verifier) cached(ctx context.Context, token string, tr *trace) (*Claims, *Error, bool) {
	if v.cache == nil {
		return nil, nil, false
	}
	e, ok := v.cache.Get(token)
	if !ok {
		return nil, nil, false
	}
	c, refusal, ok := v.reuse(ctx, e)
	tr.cached = ok
	return c, refusal, ok
}

// verifyJWS verifies a signed JWT with the issuer's keys.
func (v *Verifier) verifyJWS(ctx context.Context, token string, tr *trace) (*Claims, *Error) {
	var sigBuf [512]byte // RS4096's signature; any other fits too
	var p payload
	t, sig, e := readJWT(token, &v.headers, sigBuf[:0], &p, tr)
	if e != nil {
		return nil, e
	}
	return v.verifyParsed(ctx, &t, sig, &p, &v.headers, token)
}

// readJWT parses a signed JWT (see parseJWS) and reads its claims into p,
// noting in tr what an event may report, and refuses the tokens no
// verifier accepts whatever its configuration: ID tokens and other tokens
// that are not access tokens.
func readJWT(token string, hc *headerCache, sigBuf []byte, p *payload, tr *trace) (jws, []byte, *Error) {
	t, sig, e := parseJWS(token, hc, sigBuf)
	if e != nil {
		return t, nil, e
	}
	tr.kid, tr.alg = t.header.Kid, t.header.Alg
	err := parsePayload(t.payload, p)
	tr.iss, tr.aud = p.Iss, p.Aud
	if err != nil {
		return t, nil, tokenError(ErrMalformed, "the token's claims are malformed: %v", err)
	}
	return t, sig, checkKind(p)
}

// verifyParsed checks a parsed JWT and its signature against this
// Verifier's issuer, keys and rules, offers its header to hc (the cache it
// was parsed with), and remembers the token once accepted.
func (v *Verifier) verifyParsed(ctx context.Context, t *jws, sig []byte, p *payload, hc *headerCache, token string) (*Claims, *Error) {
	alg, ok := v.algs[t.header.Alg]
	if !ok {
		return nil, tokenError(ErrAlgorithm, "the token's signing algorithm is not accepted")
	}
	if !v.typeAccepted(t.header.Typ) {
		return nil, tokenError(ErrType, "the token's type is not an access token type")
	}
	// iss is checked before any key is looked up so that tokens from other
	// issuers never cause a fetch of this issuer's keys.
	if e := v.checkIssuer(p); e != nil {
		return nil, e
	}
	gen := v.keys.gen.Load() // before the key: see rememberVerified
	revGen := v.revocationGen()
	key, e := v.keys.key(ctx, t.header.Kid, alg)
	if e != nil {
		return nil, e
	}
	if key.alg != "" && key.alg != alg.name {
		return nil, tokenError(ErrAlgorithm, "the token's algorithm differs from its key's")
	}
	if !alg.fits(key.key) {
		return nil, tokenError(ErrAlgorithm, "the token's algorithm does not fit its key type")
	}
	if !alg.verify(key, t.signingInput, sig) {
		return nil, tokenError(ErrSignature, "the token's signature does not verify")
	}
	if e := checkKeyIssuer(key, p); e != nil {
		return nil, e
	}
	if e := v.checkTimes(p); e != nil {
		return nil, e
	}
	if !v.anyAud && !slices.ContainsFunc(p.Aud, v.isAudience) {
		return nil, tokenError(ErrAudience, "the token is not meant for this API")
	}
	if v.rfc9068 {
		if e := checkRFC9068(p); e != nil {
			return nil, e
		}
	}
	if !t.cached {
		hc.offer(token[:t.headerLen], t.header)
	}
	c, e := v.finish(ctx, p, t.payload, token)
	if e != nil {
		return nil, e
	}
	v.rememberVerified(token, verdict{claims: c, key: key}, p.Exp.Add(v.leeway).UnixNano(), gen, revGen)
	return c, nil
}

// checkIssuer requires the token's iss to be this Verifier's issuer, or,
// for an issuer template, the template filled with the token's tenant;
// with IssuerOptional, a token may also carry no iss at all.
func (v *Verifier) checkIssuer(p *payload) *Error {
	if v.tenants != nil {
		return v.tenants.check(p)
	}
	if p.Iss == v.issuer || v.optionalIss && !p.IssSet {
		return nil
	}
	if e := v.refusedIssuer(p.Iss); e != nil {
		return e
	}
	return tokenError(ErrIssuer, "the token was not issued by %s", v.issuer)
}

// finish turns checked claims into the Claims the application reads,
// refuses a revoked token, and runs the validators.
func (v *Verifier) finish(ctx context.Context, p *payload, raw []byte, token string) (*Claims, *Error) {
	c, e := v.claimsOf(p, raw)
	if e != nil {
		return nil, e
	}
	if e := v.checkRevoked(c, token); e != nil {
		return nil, e
	}
	if e := v.validate(ctx, c); e != nil {
		return nil, e
	}
	return c, nil
}

// claimsOf turns checked claims into the Claims the application reads.
func (v *Verifier) claimsOf(p *payload, raw []byte) (*Claims, *Error) {
	c := p.claims(raw)
	if v.mapping != nil {
		if err := v.mapping.apply(c, p); err != nil {
			return nil, tokenError(ErrMalformed, "the token's claims are malformed: %v", err)
		}
	}
	c.typed = new(sync.Map)
	c.by, c.self = v, c
	c.background = &claimsContext{context.Background(), c}
	return c, nil
}
