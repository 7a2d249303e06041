package bearer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bouncer-go/bouncer/core/issuerurl"
)

// Verifier decides whether a bearer token is genuine, meant for this API and
// still valid. It is safe for concurrent use; build one per issuer and share
// it.
type Verifier struct {
	issuer      string
	audiences   []string
	anyAud      bool
	algs        map[string]*algorithm
	leeway      time.Duration
	strictTyp   bool
	rfc9068     bool
	maxLifetime time.Duration
	mapping     *ClaimMapping // nil: the default claims
	validators  []Validator
	maxBytes    int
	dpop        *dpopCheck // nil: DPoP not read
	certHeader  string
	tokenHeader string
	tokenCookie string
	allowQuery  bool
	allowForm   bool
	realm       string
	now         func() time.Time
	customClock bool // Config.Now was set
	keys        *keySource
	tel         *telemetry
	tenants     *tenantRule // nil unless Issuer is a template
	headers     headerCache
	cache       *tokenCache       // nil when disabled
	metadata    string            // Config.ResourceMetadata
	introspect  *introspector     // nil without Config.Introspection
	optionalIss bool              // Config.IssuerOptional
	refused     map[string]string // Config.RefusedIssuers
	revoker     *Revoker          // nil without Config.Revocation
	// revocationLifetime bounds token lifetimes for the revoker's sake;
	// 0 when MaxTokenLifetime bounds them as strictly.
	revocationLifetime time.Duration
	closeOnce          sync.Once
}

// New builds a Verifier. It checks the configuration only: nothing is
// fetched until the first token arrives (or Ready is called), so an
// unreachable issuer never stops an application from starting.
func New(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("bearer: Config.Issuer is required")
	}
	if err := checkKeyOptions(cfg); err != nil {
		return nil, err
	}
	location := cfg.Issuer
	var tenants *tenantRule
	if strings.Contains(cfg.Issuer, TenantPlaceholder) { // never with IssuerOptional: checkKeyOptions
		var err error
		if tenants, err = newTenantRule(cfg.Issuer, cfg.Tenants); err != nil {
			return nil, err
		}
		location = discoveryIssuer(cfg.Issuer, orDefault(cfg.DiscoveryTenant, "common"))
	} else if len(cfg.Tenants) > 0 {
		return nil, fmt.Errorf("bearer: Config.Tenants needs an Issuer template with %s", TenantPlaceholder)
	}
	if !cfg.IssuerOptional { // then Issuer names the keys given, and is never fetched from
		if _, err := issuerurl.DiscoveryURLs(location); err != nil {
			return nil, fmt.Errorf("bearer: %w", err)
		}
		if err := secureURL(cfg.Issuer, cfg.InsecureAllowHTTP); err != nil {
			return nil, fmt.Errorf("bearer: Config.Issuer: %w", err)
		}
	}
	if cfg.JWKSURL != "" {
		if err := secureURL(cfg.JWKSURL, cfg.InsecureAllowHTTP); err != nil {
			return nil, fmt.Errorf("bearer: Config.JWKSURL: %w", err)
		}
	}
	if len(cfg.Audiences) == 0 && !cfg.InsecureAcceptAnyAudience {
		return nil, errors.New("bearer: Config.Audiences is empty; name this API's audience, or set InsecureAcceptAnyAudience to accept tokens meant for any API")
	}
	if slices.Contains(cfg.Audiences, "") {
		return nil, errors.New("bearer: Config.Audiences holds an empty audience")
	}
	algs, err := allowedAlgorithms(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	if err := cfg.Claims.validate(); err != nil {
		return nil, err
	}
	var mapping *ClaimMapping
	if !cfg.Claims.isDefault() {
		m := cfg.Claims
		mapping = &m
	}
	if strings.EqualFold(cfg.TokenHeader, "Authorization") {
		return nil, errors.New("bearer: Config.TokenHeader names Authorization, which is always read")
	}
	if slices.Contains(cfg.Validators, nil) {
		return nil, errors.New("bearer: Config.Validators holds a nil Validator")
	}
	leeway := min(orDefault(cfg.Leeway, defaultLeeway), MaxLeeway)
	if leeway < 0 {
		leeway = 0
	}
	var errs []error
	setting := func(name string, d, def, lo, hi time.Duration) time.Duration {
		d, err := within(name, d, def, lo, hi)
		errs = append(errs, err)
		return d
	}
	number := func(name string, n, def, hi int) int {
		n, err := count(name, n, def, hi)
		errs = append(errs, err)
		return n
	}
	maxLifetime := setting("MaxTokenLifetime", cfg.MaxTokenLifetime, 0, 0, math.MaxInt64)
	maxBytes := number("MaxTokenBytes", cfg.MaxTokenBytes, defaultMaxTokenBytes, maxTokenBytes)
	keys := &keySource{
		issuer:   cfg.Issuer,
		location: location,
		jwksURL:  cfg.JWKSURL,
		insecure: cfg.InsecureAllowHTTP,
		timeout:  setting("FetchTimeout", cfg.FetchTimeout, defaultFetchTimeout, minFetchTimeout, maxFetchTimeout),
		cooldown: setting("RefetchCooldown", cfg.RefetchCooldown, defaultCooldown, minCooldown, maxCooldown),
		maxAge:   setting("KeyMaxAge", cfg.KeyMaxAge, defaultKeyMaxAge, minRefresh, maxRefresh),
		maxStale: setting("MaxStale", cfg.MaxStale, defaultMaxStale, 0, maxMaxStale),
		maxKeys:  number("MaxKeys", cfg.MaxKeys, defaultMaxKeys, maxMaxKeys),
		use:      cfg.KeyUse,
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	if cfg.InsecureAllowHTTP {
		logger.Warn("bearer: InsecureAllowHTTP is set: issuer keys may be fetched over plain http, where they can be replaced in transit", "issuer", cfg.Issuer)
	}
	keys.client = guardRedirects(cfg.HTTPClient, cfg.InsecureAllowHTTP, cfg.AllowRedirectsAcrossOrigins)
	keys.now = now
	keys.ctx, keys.cancel = context.WithCancel(context.Background())
	keys.dueAt.Store(math.MaxInt64) // nothing held: requests look for keys anyway
	keys.outage.Every = summaryEvery
	keys.tel = newTelemetry(logger, cfg.Observer, cfg.Issuer)
	if err := loadStaticKeys(keys, cfg); err != nil {
		return nil, err
	}
	realm := cfg.Realm
	if realm == "" && len(cfg.Audiences) > 0 {
		realm = cfg.Audiences[0]
	}
	v := &Verifier{
		issuer:      cfg.Issuer,
		audiences:   slices.Clone(cfg.Audiences),
		anyAud:      cfg.InsecureAcceptAnyAudience,
		algs:        algs,
		leeway:      leeway,
		strictTyp:   cfg.RequireAccessTokenType || cfg.StrictRFC9068,
		rfc9068:     cfg.StrictRFC9068,
		maxLifetime: maxLifetime,
		mapping:     mapping,
		validators:  slices.Clone(cfg.Validators),
		maxBytes:    maxBytes,
		certHeader:  http.CanonicalHeaderKey(cfg.ClientCertHeader),
		tokenHeader: http.CanonicalHeaderKey(cfg.TokenHeader),
		tokenCookie: cfg.TokenCookie,
		allowQuery:  cfg.AllowQueryToken,
		allowForm:   cfg.AllowFormToken,
		realm:       orDefault(realm, "bouncer"),
		now:         now,
		customClock: cfg.Now != nil,
		keys:        keys,
		tel:         keys.tel,
		tenants:     tenants,
		metadata:    cfg.ResourceMetadata,
		optionalIss: cfg.IssuerOptional,
		refused:     maps.Clone(cfg.RefusedIssuers),
	}
	if v.cache, err = newTokenCache(cfg.Cache); err != nil {
		return nil, err
	}
	if cfg.Revocation != nil {
		v.revoker = cfg.Revocation
		v.revocationLifetime = revocationLifetime(v.revoker, maxLifetime)
		v.revoker.attach(v)
	}
	if cfg.DPoP != nil {
		d, err := newDPoPCheck(*cfg.DPoP, now, cfg.InsecureAllowHTTP)
		if err != nil {
			return nil, err
		}
		v.dpop = d
	}
	if cfg.Introspection != nil {
		in, err := newIntrospector(*cfg.Introspection, v, cfg.InsecureAllowHTTP)
		if err != nil {
			return nil, err
		}
		v.introspect = in
	}
	// Headers and tokens of a key that left the issuer's set are of no
	// more use.
	keys.onChange = func(set *keySet) {
		v.headers.retainKids(func(kid string) bool { return set.byID[kid] != nil })
		v.forgetKeys(set)
	}
	return v, nil
}

// loadStaticKeys installs Config.JWKS or Config.JWKSFile, or the
// JWKSSource, if set.
func loadStaticKeys(keys *keySource, cfg Config) error {
	body := cfg.JWKS
	given := 0
	for _, set := range []bool{body != nil, cfg.JWKSFile != "", cfg.JWKSURL != "", cfg.JWKSSource != nil} {
		if set {
			given++
		}
	}
	switch {
	case given > 1:
		return errors.New("bearer: set only one of Config.JWKS, JWKSFile, JWKSURL and JWKSSource")
	case cfg.JWKSSource != nil:
		keys.source = cfg.JWKSSource
		return nil
	case cfg.JWKSFile != "":
		var err error
		if body, err = os.ReadFile(cfg.JWKSFile); err != nil {
			return fmt.Errorf("bearer: Config.JWKSFile: %w", err)
		}
	case body == nil:
		return nil
	}
	if err := keys.useStatic(body); err != nil {
		return fmt.Errorf("bearer: static keys: %w", err)
	}
	return nil
}

// Close ends what the Verifier does in the background: it writes the
// summary of refusals not yet logged (see Config.Logger) and stops its
// timer, and cancels a key fetch in flight and waits for it. Call it when
// the server shuts down, after it stopped taking requests. Close is safe
// to call more than once and from several goroutines; it returns nil.
//
// A Verifier never needs Close to release goroutines: it runs a timer only
// while refusals wait to be summarised (at most a minute), and a fetch
// only while requests wait for keys. After Close it still judges tokens,
// with the keys it holds, but fetches none: a request that needs the
// issuer's keys gets ErrIssuerUnavailable (503), or ErrUnknownKey for a
// kid it does not hold.
func (v *Verifier) Close() error {
	v.closeOnce.Do(func() {
		v.keys.close()
		v.tel.close()
	})
	return nil
}

// Issuer is the issuer this Verifier trusts.
func (v *Verifier) Issuer() string { return v.issuer }

// Ready fetches the issuer's metadata and keys now, if they are not held
// yet, and reports whether tokens can be verified. Call it at start to fail
// fast, or from a readiness probe; verification never needs it.
func (v *Verifier) Ready(ctx context.Context) error {
	return v.keys.ready(ctx)
}

func (v *Verifier) isAudience(aud string) bool { return slices.Contains(v.audiences, aud) }

// typeAccepted judges the typ header. Media type names compare without
// regard to case, and "application/" may be left out (RFC 7515 §4.1.9).
func (v *Verifier) typeAccepted(typ string) bool {
	switch {
	case equalFoldAny(typ, "at+jwt", "application/at+jwt"):
		return true
	case equalFoldAny(typ, "jwt", "application/jwt", ""):
		return !v.strictTyp
	}
	return false
}

// equalFoldAny reports whether s is one of names, compared without regard
// to case and without the copy strings.ToLower makes of every name that
// has a capital, as Keycloak's typ claim "Bearer" has.
func equalFoldAny(s string, names ...string) bool {
	for _, n := range names {
		if strings.EqualFold(s, n) {
			return true
		}
	}
	return false
}

// checkKind refuses signed tokens of the issuer that are not access tokens:
// ID tokens, which an issuer signs with the same keys and may address to
// the same audience (RFC 8725 §3.11). Sender-constrained tokens are
// accepted here and checked against each request (see checkBinding).
func checkKind(p *payload) *Error {
	access := equalFoldAny(p.Typ, "bearer", "dpop") // Keycloak's access tokens
	switch {
	case strings.EqualFold(p.Typ, "id"):
		return tokenError(ErrType, "the token is an ID token (typ claim ID), not an access token")
	case equalFoldAny(p.Typ, "refresh", "offline", "logout"):
		return tokenError(ErrType, "the token's typ claim says it is not an access token")
	}
	if p.IDTokenMark != "" && !access {
		return tokenError(ErrType, "the token is an ID token (it carries %s), not an access token", p.IDTokenMark)
	}
	return nil
}

// checkRFC9068 requires the claims RFC 9068 §2.2 makes mandatory beyond
// those always checked (iss, exp, aud).
func checkRFC9068(p *payload) *Error {
	for _, c := range []struct {
		name string
		set  bool
	}{{"sub", p.Sub != ""}, {"client_id", p.ClientID != ""}, {"iat", p.Iat.Set}, {"jti", p.Jti != ""}} {
		if !c.set {
			return tokenError(ErrMalformed, "the token lacks the %s claim RFC 9068 requires", c.name)
		}
	}
	return nil
}

// checkTimes judges a JWT's times: exp is required.
func (v *Verifier) checkTimes(p *payload) *Error {
	if !p.Exp.Set {
		return tokenError(ErrMalformed, "the token has no exp claim")
	}
	return v.checkValidity(p)
}

// checkValidity judges exp (when set), nbf and iat within the leeway, and
// the lifetime MaxTokenLifetime bounds, which needs both iat and exp.
func (v *Verifier) checkValidity(p *payload) *Error {
	now := v.now()
	if p.Exp.Set && !now.Before(p.Exp.Add(v.leeway)) {
		return tokenError(ErrExpired, "the token expired at %s", p.Exp.UTC().Format(time.RFC3339))
	}
	if p.Nbf.Set && now.Add(v.leeway).Before(p.Nbf.Time) {
		return tokenError(ErrNotYetValid, "the token is not valid before %s", p.Nbf.UTC().Format(time.RFC3339))
	}
	if p.Iat.Set && now.Add(v.leeway).Before(p.Iat.Time) {
		return tokenError(ErrNotYetValid, "the token was issued in the future (%s)", p.Iat.UTC().Format(time.RFC3339))
	}
	if v.maxLifetime > 0 {
		if !p.Iat.Set {
			return tokenError(ErrLifetime, "the token has no iat claim, so its lifetime cannot be bounded")
		}
		if !p.Exp.Set {
			return tokenError(ErrLifetime, "the token has no exp claim, so its lifetime cannot be bounded")
		}
		if life := p.Exp.Sub(p.Iat.Time); life > v.maxLifetime {
			return tokenError(ErrLifetime, "the token's lifetime of %v exceeds the %v allowed", life, v.maxLifetime)
		}
	}
	return v.checkRevocationLifetime(p, now)
}
