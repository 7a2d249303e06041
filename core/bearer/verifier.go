package bearer

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// Verifier decides whether a bearer token is genuine, meant for this API and
// still valid. It is safe for concurrent use; build one per issuer and share
// it.
type Verifier struct {
	issuer     string
	audiences  []string
	anyAud     bool
	algs       map[string]*algorithm
	leeway     time.Duration
	strictTyp  bool
	maxBytes   int
	allowQuery bool
	allowForm  bool
	realm      string
	now        func() time.Time
	keys       *keySource
	headers    headerCache
}

// New builds a Verifier. It checks the configuration only: nothing is
// fetched until the first token arrives (or Ready is called), so an
// unreachable issuer never stops an application from starting.
func New(cfg Config) (*Verifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("bearer: Config.Issuer is required")
	}
	if _, err := discoveryURLs(cfg.Issuer); err != nil {
		return nil, err
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
	leeway := orDefault(cfg.Leeway, defaultLeeway)
	if leeway < 0 {
		leeway = 0
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	client := cfg.HTTPClient
	if client == nil {
		client = defaultHTTPClient()
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	realm := cfg.Realm
	if realm == "" && len(cfg.Audiences) > 0 {
		realm = cfg.Audiences[0]
	}
	return &Verifier{
		issuer:     cfg.Issuer,
		audiences:  slices.Clone(cfg.Audiences),
		anyAud:     cfg.InsecureAcceptAnyAudience,
		algs:       algs,
		leeway:     leeway,
		strictTyp:  cfg.RequireAccessTokenType,
		maxBytes:   orDefault(cfg.MaxTokenBytes, defaultMaxTokenBytes),
		allowQuery: cfg.AllowQueryToken,
		allowForm:  cfg.AllowFormToken,
		realm:      orDefault(realm, "bouncer"),
		now:        now,
		keys: &keySource{
			client:   client,
			issuer:   cfg.Issuer,
			jwksURL:  cfg.JWKSURL,
			timeout:  orDefault(cfg.FetchTimeout, defaultFetchTimeout),
			cooldown: orDefault(cfg.RefetchCooldown, defaultCooldown),
			maxAge:   orDefault(cfg.KeyMaxAge, defaultKeyMaxAge),
			maxStale: orDefault(cfg.MaxStale, defaultMaxStale),
			observer: cfg.Observer,
			maxKeys:  orDefault(cfg.MaxKeys, defaultMaxKeys),
			now:      now,
			log:      logger,
		},
	}, nil
}

// Issuer is the issuer this Verifier trusts.
func (v *Verifier) Issuer() string { return v.issuer }

// Ready fetches the issuer's metadata and keys now, if they are not held
// yet, and reports whether tokens can be verified. Call it at start to fail
// fast, or from a readiness probe; verification never needs it.
func (v *Verifier) Ready(ctx context.Context) error {
	return v.keys.ready(ctx)
}

// Verify checks a token and returns its claims. A refusal is an *Error
// wrapping one of the Err sentinels: ErrMalformed, ErrAlgorithm, ErrType,
// ErrUnknownKey, ErrSignature, ErrIssuer, ErrAudience, ErrExpired,
// ErrNotYetValid, or ErrIssuerUnavailable when the issuer's keys cannot be
// had.
func (v *Verifier) Verify(ctx context.Context, token string) (*Claims, error) {
	c, err := v.verify(ctx, token)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (v *Verifier) verify(ctx context.Context, token string) (*Claims, *Error) {
	if len(token) > v.maxBytes {
		return nil, tokenError(ErrMalformed, "the token is longer than %d bytes", v.maxBytes)
	}
	t, e := parseJWS(token, &v.headers)
	if e != nil {
		return nil, e
	}
	alg, ok := v.algs[t.header.Alg]
	if !ok {
		return nil, tokenError(ErrAlgorithm, "the token's signing algorithm is not accepted")
	}
	if !v.typeAccepted(t.header.Typ) {
		return nil, tokenError(ErrType, "the token's type is not an access token type")
	}
	p, err := parsePayload(t.payload)
	if err != nil {
		return nil, tokenError(ErrMalformed, "the token's claims are malformed: %v", err)
	}
	// iss is checked before any key is looked up so that tokens from other
	// issuers never cause a fetch of this issuer's keys.
	if p.Iss != v.issuer {
		return nil, tokenError(ErrIssuer, "the token was not issued by %s", v.issuer)
	}
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
	if !alg.verify(key.key, t.signingInput, t.signature) {
		return nil, tokenError(ErrSignature, "the token's signature does not verify")
	}
	if e := v.checkTimes(p); e != nil {
		return nil, e
	}
	if !v.anyAud && !slices.ContainsFunc(p.Aud, v.isAudience) {
		return nil, tokenError(ErrAudience, "the token is not meant for this API")
	}
	// Cloned: an adapter may hand over a token that aliases a request
	// buffer its server reuses (fasthttp does), and the cache outlives it.
	v.headers.add(strings.Clone(token[:strings.IndexByte(token, '.')]), t.header)
	return p.claims(t.payload), nil
}

func (v *Verifier) isAudience(aud string) bool { return slices.Contains(v.audiences, aud) }

func (v *Verifier) typeAccepted(typ string) bool {
	switch strings.ToLower(typ) {
	case "at+jwt", "application/at+jwt":
		return true
	case "jwt", "":
		return !v.strictTyp
	}
	return false
}

func (v *Verifier) checkTimes(p *payload) *Error {
	now := v.now()
	if !p.Exp.Set {
		return tokenError(ErrMalformed, "the token has no exp claim")
	}
	if !now.Before(p.Exp.Add(v.leeway)) {
		return tokenError(ErrExpired, "the token expired at %s", p.Exp.UTC().Format(time.RFC3339))
	}
	if p.Nbf.Set && now.Add(v.leeway).Before(p.Nbf.Time) {
		return tokenError(ErrNotYetValid, "the token is not valid before %s", p.Nbf.UTC().Format(time.RFC3339))
	}
	if p.Iat.Set && now.Add(v.leeway).Before(p.Iat.Time) {
		return tokenError(ErrNotYetValid, "the token was issued in the future (%s)", p.Iat.UTC().Format(time.RFC3339))
	}
	return nil
}
