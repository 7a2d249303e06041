package bearer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// MultiConfig configures a MultiVerifier.
type MultiConfig struct {
	// Issuers are the issuers trusted, each configured as for New: its own
	// audiences, algorithms, claim mapping, validators. An Issuer may be a
	// template (see TenantPlaceholder). At most one may set
	// Introspection: opaque tokens name no issuer, and a token is never
	// shown to an issuer that did not mint it. The issuers' Cache settings
	// are ignored: Cache below holds every issuer's tokens. Each issuer's
	// Logger and Observer hear its own discovery and key events; the
	// MultiVerifier's decisions go to the first issuer's.
	Issuers []Config

	// Realm is named in WWW-Authenticate challenges. Empty means the first
	// issuer's realm.
	Realm string

	// ResourceMetadata, if set, is the URL of this API's RFC 9728
	// metadata, named in every challenge (see Config.ResourceMetadata).
	ResourceMetadata string

	// Cache bounds the cache of judged tokens (see CacheConfig).
	Cache CacheConfig
}

// MultiVerifier accepts tokens from several issuers: an Entra multi-tenant
// app, a migration running Keycloak and Entra side by side, a platform
// with one realm per customer. A token is routed by its iss, read before
// any key is touched, to that issuer's Verifier alone; a token naming an
// issuer that is not trusted is refused without any network call. Each
// issuer is discovered lazily and on its own, so one issuer's outage
// affects only its own tokens. Claims.Issuer says which issuer vouched.
//
// A MultiVerifier is a Checker: every adapter takes it where it takes a
// *Verifier.
type MultiVerifier struct {
	exact     map[string]*Verifier
	templates []*Verifier
	opaque    *Verifier // the issuer that introspects opaque tokens, if any
	members   []*Verifier
	maxBytes  int
	realm     string
	metadata  string
	cache     *tokenCache
	headers   headerCache
	tel       *telemetry
	closeOnce sync.Once
}

// NewMulti builds a MultiVerifier. Like New, it fetches nothing.
func NewMulti(cfg MultiConfig) (*MultiVerifier, error) {
	if len(cfg.Issuers) == 0 {
		return nil, errors.New("bearer: MultiConfig.Issuers is empty")
	}
	m := &MultiVerifier{exact: map[string]*Verifier{}, metadata: cfg.ResourceMetadata}
	for i, c := range cfg.Issuers {
		c.Cache = CacheConfig{Disable: true}
		if c.ResourceMetadata == "" {
			c.ResourceMetadata = cfg.ResourceMetadata
		}
		v, err := New(c)
		if err != nil {
			return nil, fmt.Errorf("issuer %d: %w", i, err)
		}
		switch {
		case v.tenants != nil:
			m.templates = append(m.templates, v)
		case m.exact[v.issuer] != nil:
			return nil, fmt.Errorf("bearer: issuer %s is configured twice", v.issuer)
		default:
			m.exact[v.issuer] = v
		}
		if v.introspect != nil {
			if m.opaque != nil {
				return nil, errors.New("bearer: more than one issuer sets Introspection: an opaque token names no issuer, so only one may be asked")
			}
			m.opaque = v
		}
		m.members = append(m.members, v)
		m.maxBytes = max(m.maxBytes, v.maxBytes)
	}
	m.tel = newTelemetry(m.members[0].tel.log, m.members[0].tel.observer, strings.Join(m.Issuers(), " "))
	m.realm = cfg.Realm
	if m.realm == "" {
		m.realm = m.members[0].realm
	}
	var err error
	if m.cache, err = newTokenCache(cfg.Cache); err != nil {
		return nil, err
	}
	for _, v := range m.members {
		v.cache = m.cache // introspection answers and JWTs alike
	}
	return m, nil
}

// Close closes every issuer's Verifier (see Verifier.Close) and writes the
// summary of the MultiVerifier's own refusals not yet logged. It is safe
// to call more than once; it returns nil.
func (m *MultiVerifier) Close() error {
	m.closeOnce.Do(func() {
		for _, v := range m.members {
			_ = v.Close()
		}
		m.tel.close()
	})
	return nil
}

// Issuers are the issuers trusted, templates as configured.
func (m *MultiVerifier) Issuers() []string {
	out := make([]string, 0, len(m.members))
	for _, v := range m.members {
		out = append(out, v.issuer)
	}
	return out
}

// Verify checks a token with the Verifier of the issuer it names. The
// claims are the caller's own copy (see Claims).
func (m *MultiVerifier) Verify(ctx context.Context, token string) (*Claims, error) {
	tr := m.tel.begin()
	c, e, ok := m.cached(ctx, token, &tr)
	if !ok {
		c, e = m.verify(ctx, token, &tr)
	}
	if e == nil {
		e = checkBinding(c, presentation{})
	}
	return own(decided(ctx, m.tel, &tr, c, e))
}

// verify judges a token that the cache of judged tokens did not answer
// for: its callers look there first.
func (m *MultiVerifier) verify(ctx context.Context, token string, tr *trace) (*Claims, *Error) {
	if len(token) > m.maxBytes {
		return nil, tokenError(ErrMalformed, "the token is longer than %d bytes", m.maxBytes)
	}
	if m.opaque != nil && !isJWS(token, &m.headers) {
		return m.opaque.introspectToken(ctx, token)
	}
	// A JWS names its issuer, or none: one that cannot be read is refused
	// here, never shown to the introspecting issuer as if opaque.
	var sigBuf [512]byte
	var p payload
	t, sig, e := readJWT(token, &m.headers, sigBuf[:0], &p, tr)
	if e != nil {
		return nil, e
	}
	v := m.route(p.Iss)
	switch {
	case v == nil && p.Iss == "":
		return nil, tokenError(ErrIssuer, "the token names no issuer")
	case v == nil:
		for _, member := range m.members {
			if e := member.refusedIssuer(p.Iss); e != nil {
				return nil, e
			}
		}
		return nil, tokenError(ErrIssuer, "the token's issuer is not trusted here")
	case v.introspect != nil && v.introspect.cfg.AllTokens:
		// Only the issuer the JWT names is asked about it.
		return v.introspectJWT(ctx, &t, &p, token)
	}
	return v.verifyParsed(ctx, &t, sig, &p, &m.headers, token)
}

// route finds the Verifier of iss without any I/O: an exact issuer, else
// the first template iss fits.
func (m *MultiVerifier) route(iss string) *Verifier {
	if v := m.exact[iss]; v != nil {
		return v
	}
	for _, v := range m.templates {
		if v.tenants.matches(iss) {
			return v
		}
	}
	return nil
}

// owner is the member that produced c, or for a remembered inactive
// answer (nil claims) the introspecting one.
func (m *MultiVerifier) owner(c *Claims) *Verifier {
	if c == nil {
		return m.opaque
	}
	if slices.Contains(m.members, c.by) {
		return c.by
	}
	return nil
}

// VerifyRequest finds the token in r, as the first issuer's Verifier reads
// requests (Config.TokenHeader, AllowQueryToken…), and verifies it. The
// claims are the caller's own copy (see Claims).
func (m *MultiVerifier) VerifyRequest(ctx context.Context, r Request) (*Claims, error) {
	tr := m.tel.begin()
	c, e := m.verifyRequest(ctx, r, &tr)
	return own(decided(ctx, m.tel, &tr, c, e))
}

func (m *MultiVerifier) verifyRequest(ctx context.Context, r Request, tr *trace) (*Claims, *Error) {
	return m.members[0].judgeRequest(ctx, r, tr, judge{multi: m})
}

// cached answers from the cache of judged tokens, when it can.
func (m *MultiVerifier) cached(ctx context.Context, tok string, tr *trace) (*Claims, *Error, bool) {
	if m.cache == nil {
		return nil, nil, false
	}
	e, ok := m.cache.Get(tok)
	if !ok {
		return nil, nil, false
	}
	v := m.owner(e.Value.claims)
	if v == nil {
		return nil, nil, false
	}
	c, refusal, ok := v.reuse(ctx, e)
	tr.cached = ok
	return c, refusal, ok
}

// Check is Verifier.Check for several issuers: claims in ctx are reused
// only when one of this MultiVerifier's issuers produced them. Like
// Verifier.Check's, the claims it returns are shared, for NewContext.
func (m *MultiVerifier) Check(ctx context.Context, r Request, policies ...Policy) (*Claims, error) {
	tr := m.tel.begin()
	c, ok := fromContext(ctx)
	if !ok || !slices.ContainsFunc(m.members, c.verifiedBy) {
		var e *Error
		if c, e = m.verifyRequest(ctx, r, &tr); e != nil {
			return decided(ctx, m.tel, &tr, c, e)
		}
	}
	var e *Error
	if err := authorize(c, policies); err != nil {
		e = requestScheme(policyError(err), r)
	}
	return decided(ctx, m.tel, &tr, c, e)
}

// Response renders err with this MultiVerifier's realm.
func (m *MultiVerifier) Response(err error) Response {
	return renderResponse(err, m.realm, m.metadata, m.members[0].dpop)
}

// Ready fetches every issuer's metadata and keys now, and reports the
// issuers that cannot be reached.
func (m *MultiVerifier) Ready(ctx context.Context) error {
	var errs []error
	for _, v := range m.members {
		if err := v.Ready(ctx); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.issuer, err))
		}
	}
	return errors.Join(errs...)
}

// Status reports each issuer's keys, by issuer.
func (m *MultiVerifier) Status() map[string]Status {
	out := make(map[string]Status, len(m.members))
	for _, v := range m.members {
		out[v.issuer] = v.Status()
	}
	return out
}

var _ Checker = (*MultiVerifier)(nil)

// AcceptHeader is the first issuer's (see Verifier.AcceptHeader).
func (m *MultiVerifier) AcceptHeader() http.Header { return m.members[0].AcceptHeader() }
