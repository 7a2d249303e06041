package bearer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bouncer-go/bouncer/core/internal/introspect"
	"github.com/bouncer-go/bouncer/core/internal/sealedentry"
)

// Introspection lets a Verifier judge tokens it cannot read: opaque access
// tokens (Ory Hydra's ory_at_…, oidc-provider's without a resource
// indicator, Spring Authorization Server's reference tokens), by asking
// the issuer's RFC 7662 introspection endpoint, authenticated as this
// API's own client. The answer is judged like a token's claims: active
// must be true, iss (if given) this issuer, aud one of this API's
// audiences, exp and nbf within the leeway, and it must not describe a
// refresh token or an ID token; its scope, client_id, sub and roles land
// in the same Claims a JWT gives.
//
// An answer that is not a 200 JSON object, too large, or late is an
// issuer outage (503 with Retry-After), never an acceptance, and is not
// cached. Tokens are never logged; cache keys are hashes of tokens.
type Introspection struct {
	// URL of the introspection endpoint. Empty means discovery's
	// introspection_endpoint. The https rule of Config.Issuer applies.
	URL string

	// ClientID and ClientSecret are this API's credentials at the issuer.
	ClientID     string
	ClientSecret string

	// SecretInForm sends them in the form body (client_secret_post)
	// instead of with HTTP Basic (client_secret_basic, the default).
	SecretInForm bool

	// AllTokens sends every token to the issuer, JWTs too, for issuers
	// whose JWTs must be checked for revocation or carry only some claims
	// (Keycloak's lightweight access tokens). A JWT is sent only once it
	// has been read and names this issuer: one that cannot be read, or
	// names another issuer, is refused without a call. By default only
	// tokens that are not a compact JWS (three dot-separated segments,
	// the first a base64url JSON object) are sent.
	AllTokens bool

	// MaxAge is how long an active answer is reused, at most until the
	// token's exp: a token revoked at the issuer is refused here within
	// MaxAge. Zero means one minute.
	MaxAge time.Duration

	// InactiveFor is how long an inactive answer is reused, so a flood of
	// junk tokens is not a flood against the issuer. Zero means ten
	// seconds; negative means inactive answers are not remembered.
	InactiveFor time.Duration

	// Timeout bounds one call. Zero means five seconds.
	Timeout time.Duration

	// Shared, if set, shares answers between the replicas of an API (see
	// SharedCache), so N replicas ask the issuer once per token, not N
	// times. Its failures are reported and the in-process cache carries
	// on: a shared cache outage never fails a request by itself.
	Shared SharedCache

	// SharedKey authenticates the entries of Shared (HMAC-SHA256), so
	// that whoever can write the shared cache but lacks the key cannot
	// make a token active there: an entry that does not verify is
	// ignored and reported (EventSharedCacheFailed). Every replica must
	// have the same key; at least 32 bytes, random. Empty means a key
	// derived from ClientSecret and ClientID, which the replicas share
	// already, and which is then only as hard to guess as the secret; set
	// SharedKey too to keep sharing while the secret is rotated.
	SharedKey []byte
}

// SharedCache stores introspection answers for a fleet of verifiers; the
// module adapters/bearerredis implements it over Redis. Keys are hashes of
// the issuer, the introspection endpoint, the client asking and the token,
// never tokens; values are the issuer's answers with the time they were
// given, authenticated together with the key they are stored under (see
// Introspection.SharedKey). Each replica judges an answer itself and uses
// it for its own MaxAge (or InactiveFor) from that time, never past the
// token's exp; an entry's TTL is how long the replica that asked uses it.
type SharedCache interface {
	Get(ctx context.Context, key string) (value []byte, found bool, err error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
}

const (
	defaultIntrospectionMaxAge = time.Minute
	defaultInactiveFor         = 10 * time.Second
	defaultIntrospectTimeout   = 5 * time.Second
)

// introspector is a Verifier's configured introspection.
type introspector struct {
	cfg      Introspection
	client   introspect.Client
	flights  flights
	inactive bool   // remember inactive answers
	seal     []byte // the key of the shared cache's entries
}

func newIntrospector(cfg Introspection, v *Verifier, insecure bool) (*introspector, error) {
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("bearer: Config.Introspection needs ClientID and ClientSecret")
	}
	if cfg.URL != "" {
		if err := secureURL(cfg.URL, insecure); err != nil {
			return nil, fmt.Errorf("bearer: Config.Introspection.URL: %w", err)
		}
	}
	if n := len(cfg.SharedKey); n > 0 && n < sealedentry.KeyBytes {
		return nil, fmt.Errorf("bearer: Config.Introspection.SharedKey has %d bytes; it needs at least %d, random", n, sealedentry.KeyBytes)
	}
	var errs []error
	setting := func(name string, d, def, lo, hi time.Duration) time.Duration {
		d, err := within(name, d, def, lo, hi)
		errs = append(errs, err)
		return d
	}
	in := &introspector{cfg: cfg, inactive: cfg.InactiveFor >= 0}
	if in.seal = bytes.Clone(cfg.SharedKey); in.seal == nil {
		in.seal = sealedentry.DeriveKey([]byte(cfg.ClientSecret), "introspection\x00"+cfg.ClientID)
	}
	in.cfg.SharedKey = nil
	in.cfg.MaxAge = setting("Introspection.MaxAge", cfg.MaxAge, defaultIntrospectionMaxAge, time.Second, 24*time.Hour)
	if in.inactive {
		in.cfg.InactiveFor = setting("Introspection.InactiveFor", cfg.InactiveFor, defaultInactiveFor, time.Second, time.Hour)
	}
	in.cfg.Timeout = setting("Introspection.Timeout", cfg.Timeout, defaultIntrospectTimeout, 100*time.Millisecond, time.Minute)
	// The request carries the token and the API's credentials: a
	// redirect stays on the endpoint's origin, whatever
	// AllowRedirectsAcrossOrigins lets discovery and key fetches do.
	hc := guardRedirects(v.keys.client, insecure, false)
	in.client = introspect.Client{HTTP: hc, ID: cfg.ClientID, Secret: cfg.ClientSecret, Post: cfg.SecretInForm}
	return in, errors.Join(errs...)
}

// introspectToken judges token by the issuer's answer: from the shared
// cache if a replica asked already, else from the issuer, one call per
// token however many requests carry it at once. Those requests share the
// answer only: each judges it and runs the validators with its own
// context, as a cache hit does.
func (v *Verifier) introspectToken(ctx context.Context, token string) (*Claims, *Error) {
	in := v.introspect
	a, first := in.flights.do(token, func() issuerAnswer {
		// The call serves every request waiting for this token, so it
		// must not end with the first one's cancellation; Timeout bounds
		// it.
		return v.obtainAnswer(context.WithoutCancel(ctx), token)
	})
	if a.err != nil {
		return nil, a.err
	}
	c, e, until := v.judgeAnswer(token, a.body, a.obtained)
	if first && !a.shared && in.cfg.Shared != nil && until > 0 {
		v.share(context.WithoutCancel(ctx), a, until)
	}
	if e != nil {
		return nil, e
	}
	if e := v.validate(ctx, c); e != nil {
		return nil, e
	}
	return c, nil
}

// issuerAnswer is what one introspection of a token obtained, shared by
// every request that waited for it.
type issuerAnswer struct {
	body     []byte
	obtained int64  // when the issuer was asked (Unix nanoseconds)
	shared   bool   // read from the shared cache
	name     string // its name there, when there is one
	err      *Error
}

// obtainAnswer reads token's answer from the shared cache, or asks the
// issuer for it.
func (v *Verifier) obtainAnswer(ctx context.Context, token string) issuerAnswer {
	in := v.introspect
	endpoint, e := v.introspectionEndpoint(ctx)
	if e != nil {
		return issuerAnswer{err: e}
	}
	var name string // only when there is a shared cache
	if in.cfg.Shared != nil {
		name = v.sharedName(endpoint, token)
		if a, ok := v.readShared(ctx, name); ok {
			return a
		}
	}
	// The answer says what the issuer knew when it was asked: its age
	// counts from then.
	obtained := v.now().UnixNano()
	body, e := v.askIssuer(ctx, endpoint, token)
	return issuerAnswer{body: body, obtained: obtained, name: name, err: e}
}

// readShared reads the answer another replica shared, if there is one
// this verifier may still use: an active answer for MaxAge from when the
// issuer gave it, an inactive one for InactiveFor, this verifier's own
// settings, whatever those of the replica that asked.
func (v *Verifier) readShared(ctx context.Context, name string) (issuerAnswer, bool) {
	in := v.introspect
	value, found, err := in.cfg.Shared.Get(ctx, name)
	if err != nil {
		v.keys.emit(Event{Kind: EventSharedCacheFailed, Err: err})
	}
	if !found {
		return issuerAnswer{}, false
	}
	obtained, body, err := sealedentry.Open(in.seal, name, value, introspect.MaxAnswerBytes)
	if err != nil {
		// Made up, altered, moved from another name, or written with
		// another key: no better than a miss, and worth knowing of.
		v.keys.emit(Event{Kind: EventSharedCacheFailed, Err: fmt.Errorf("shared entry ignored: %w", err)})
		return issuerAnswer{}, false
	}
	// A writer whose clock runs ahead does not lengthen an answer's use.
	now := v.now().UnixNano()
	obtained = min(obtained, now)
	a, err := parseAnswer(body)
	switch {
	case err != nil:
		return issuerAnswer{}, false
	case a.active && now >= obtained+int64(in.cfg.MaxAge):
		return issuerAnswer{}, false
	case !a.active && (!in.inactive || now >= obtained+int64(in.cfg.InactiveFor)):
		return issuerAnswer{}, false
	}
	return issuerAnswer{body: body, obtained: obtained, shared: true}, true
}

// share stores an answer in the shared cache, for as long as this
// verifier uses it (until, Unix nanoseconds); each reader bounds it by
// its own settings too.
func (v *Verifier) share(ctx context.Context, a issuerAnswer, until int64) {
	ttl := time.Duration(until - v.now().UnixNano())
	if ttl <= 0 {
		return
	}
	in := v.introspect
	if err := in.cfg.Shared.Set(ctx, a.name, sealedentry.Seal(in.seal, a.name, a.obtained, a.body), ttl); err != nil {
		v.keys.emit(Event{Kind: EventSharedCacheFailed, Err: err})
	}
}

// introspectionEndpoint is Introspection.URL, or the issuer's
// introspection_endpoint.
func (v *Verifier) introspectionEndpoint(ctx context.Context) (string, *Error) {
	u := v.introspect.cfg.URL
	if u == "" {
		var err error
		if u, err = v.keys.introspectionURL(ctx); err != nil {
			return "", v.introspectionOutage(ctx, err)
		}
	}
	if err := secureURL(u, v.keys.insecure); err != nil {
		return "", v.introspectionOutage(ctx, fmt.Errorf("introspection_endpoint: %w", err))
	}
	return u, nil
}

// askIssuer calls the introspection endpoint.
func (v *Verifier) askIssuer(ctx context.Context, endpoint, token string) ([]byte, *Error) {
	in := v.introspect
	client := in.client
	client.URL = endpoint
	ctx, cancel := context.WithTimeout(ctx, in.cfg.Timeout)
	defer cancel()
	body, err := client.Introspect(ctx, token)
	if err != nil {
		v.keys.emit(Event{Kind: EventIntrospectionFailed, Err: err})
		return nil, v.introspectionOutage(ctx, err)
	}
	return body, nil
}

func (v *Verifier) introspectionOutage(ctx context.Context, err error) *Error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return cancelled(ctx.Err())
	}
	wait := time.Second
	var se *introspect.StatusError
	if errors.As(err, &se) {
		wait = max(wait, parseRetryAfter(se.RetryAfter, time.Now()))
	}
	return &Error{Err: fmt.Errorf("%w: %w", ErrIssuerUnavailable, err), Description: "the issuer's introspection endpoint cannot be reached", RetryAfter: wait}
}

// judgeAnswer reads an introspection answer, which the issuer gave at
// obtained (Unix nanoseconds), as the token's claims and remembers the
// verdict: an acceptance until the earlier of exp and MaxAge from
// obtained, an inactive token for InactiveFor from obtained. It returns
// until, the end of the verdict's use (Unix nanoseconds), or 0 when it is
// not to be shared. The validators are the caller's to run: they judge
// the request, and the verdict is remembered without them, as every cache
// hit runs them anew.
func (v *Verifier) judgeAnswer(token string, body []byte, obtained int64) (*Claims, *Error, int64) {
	in := v.introspect
	revGen := v.revocationGen() // before the lookup: see rememberVerified
	a, err := parseAnswer(body)
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("%w: introspection: %w", ErrIssuerUnavailable, err), Description: "the issuer's introspection answer is malformed", RetryAfter: time.Second}, 0
	}
	if !a.active {
		if !in.inactive {
			return nil, errCachedInactive, 0
		}
		until := obtained + int64(in.cfg.InactiveFor)
		v.rememberUntil(token, verdict{}, until, revGen)
		return nil, errCachedInactive, until
	}
	c, e := v.judgeActive(&a, body)
	if e != nil {
		return nil, e, 0 // a refusal is not remembered: the request is judged afresh
	}
	if e := v.checkRevoked(c, token); e != nil {
		return nil, e, 0
	}
	until := obtained + int64(in.cfg.MaxAge)
	if !c.Expiry.IsZero() {
		until = min(until, c.Expiry.Add(v.leeway).UnixNano())
	}
	v.rememberUntil(token, verdict{claims: c}, until, revGen)
	return c, nil, until
}

// rememberUntil remembers an introspection verdict, unless its use has
// ended already (an answer that was long in coming).
func (v *Verifier) rememberUntil(token string, d verdict, until int64, revGen uint64) {
	if until > v.now().UnixNano() {
		v.remember(token, d, "", until, revGen)
	}
}

// judgeActive applies to an active answer the checks a JWT's claims get
// (StrictRFC9068's claims and MaxTokenLifetime included), the validators
// aside.
func (v *Verifier) judgeActive(a *answer, body []byte) (*Claims, *Error) {
	p := &a.claims
	switch {
	case strings.EqualFold(a.tokenType, "refresh_token"), a.tokenUse != "" && a.tokenUse != "access_token":
		return nil, tokenError(ErrType, "the issuer says the token is not an access token")
	case p.Iss != "" && p.Iss != v.issuer:
		return nil, tokenError(ErrIssuer, "the token was not issued by %s", v.issuer)
	case !v.anyAud && !slices.ContainsFunc(p.Aud, v.isAudience):
		return nil, tokenError(ErrAudience, "the token is not meant for this API")
	}
	if e := checkKind(p); e != nil {
		return nil, e
	}
	// RFC 9068's claims are asked of the answer; its typ is a JWT
	// header, which an answer has not (see introspectJWT). iss may be
	// left out of an answer (RFC 7662 §2.2): the issuer answered for it.
	if v.rfc9068 {
		if !p.Exp.Set {
			return nil, tokenError(ErrMalformed, "the token has no exp claim")
		}
		if e := checkRFC9068(p); e != nil {
			return nil, e
		}
	}
	// exp is optional in an answer, unless MaxTokenLifetime needs it.
	if e := v.checkValidity(p); e != nil {
		return nil, e
	}
	if p.Iss == "" {
		p.Iss = v.issuer // the issuer answered for it
	}
	return v.claimsOf(p, body)
}

// answer is an introspection answer: RFC 7662's members beside the claims.
type answer struct {
	active    bool
	tokenType string // token_type: RFC 7662
	tokenUse  string // token_use: Ory Hydra
	claims    payload
}

// parseAnswer reads an answer with the same strict reader as token claims.
// active must be the JSON literal true for a token to count as active.
func parseAnswer(body []byte) (answer, error) {
	var a answer
	err := members(body, func(name, v []byte) error {
		switch string(name) {
		case "active":
			a.active = string(v) == "true"
		case "token_type":
			a.tokenType, _ = stringValue(v)
		case "token_use":
			a.tokenUse, _ = stringValue(v)
		}
		return nil
	})
	if err != nil {
		return a, err
	}
	if a.active {
		err = parsePayload(body, &a.claims)
	}
	return a, err
}

// sharedName names token's answer in the shared cache: a hash of the
// issuer, the endpoint asked, the client asking and the token, never the
// token. An issuer may tailor its answer to the client asking (RFC 7662
// §2.2), so answers are shared only between verifiers that ask the same
// endpoint as the same client.
func (v *Verifier) sharedName(endpoint, token string) string {
	h := sha256.New()
	for _, s := range []string{v.issuer, endpoint, v.introspect.cfg.ClientID} {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write([]byte(s))
	}
	h.Write([]byte(token))
	return "bouncer:introspection:" + hex.EncodeToString(h.Sum(nil))
}

// flights collapses concurrent introspections of one token into one call.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	res  issuerAnswer
}

// do runs call for token, or waits for the call already running for it,
// and returns its answer; first is true for the request that ran it.
func (f *flights) do(token string, call func() issuerAnswer) (res issuerAnswer, first bool) {
	f.mu.Lock()
	if fl, ok := f.m[token]; ok {
		f.mu.Unlock()
		<-fl.done
		return fl.res, false
	}
	if f.m == nil {
		f.m = map[string]*flight{}
	}
	fl := &flight{done: make(chan struct{})}
	f.m[token] = fl
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.m, token)
		f.mu.Unlock()
		close(fl.done)
	}()
	fl.res = call()
	return fl.res, true
}
