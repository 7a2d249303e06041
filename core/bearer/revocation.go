package bearer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"github.com/bouncer-go/bouncer/core/internal/outage"
	"github.com/bouncer-go/bouncer/core/internal/revocation"
	"github.com/bouncer-go/bouncer/core/internal/tokencache"
)

// A JWT is good until its exp: when a client's secret leaks or a service is
// retired, an API that verifies tokens locally keeps accepting them for up
// to their whole lifetime, and its token cache keeps answering for them. A
// Revoker takes tokens back before they expire: one token by its jti, every
// token of a client or of a subject issued before a time (Keycloak's "not
// before"), one opaque token by its hash. A revoked token is refused with
// 401 invalid_token, on every path, cache hits included.
//
// Verifiers share a Revoker (Config.Revocation). Rules are looked up only
// when a token is judged afresh: a new rule purges what it covers from the
// token caches of those verifiers instead, so a cache hit costs the same
// whatever the number of rules, and a verification in flight while the
// rule arrives never caches a verdict the rule overturns. A fleet of
// replicas shares its rules through a RevocationSink such as
// bearerredis.Revocations; a Shared Signals receiver (package ssf) turns
// an identity provider's security events into rules.

// RevocationKind is what a Revocation selects tokens by.
type RevocationKind int

const (
	// RevokeTokenID takes back the token of Issuer whose jti is Value.
	RevokeTokenID RevocationKind = iota + 1
	// RevokeClientBefore takes back every token of Issuer whose client
	// (Claims.ClientID) is Value and that was issued (iat) before
	// Before: what to do when a client's secret leaked. Tokens the client
	// obtains afterwards are accepted.
	RevokeClientBefore
	// RevokeSubjectBefore takes back every token of Issuer whose subject
	// (sub) is Value and that was issued before Before.
	RevokeSubjectBefore
	// RevokeToken takes back one token whatever its issuer: Value is its
	// TokenHash. For opaque tokens, which carry no jti; the token itself is
	// never stored.
	RevokeToken
)

var revocationKinds = []string{RevokeTokenID: "jti", RevokeClientBefore: "client", RevokeSubjectBefore: "subject", RevokeToken: "token"}

// String is the kind's name: "jti", "client", "subject" or "token".
func (k RevocationKind) String() string {
	if k >= RevokeTokenID && k <= RevokeToken {
		return revocationKinds[k]
	}
	return "unknown"
}

// MarshalText writes the kind's name.
func (k RevocationKind) MarshalText() ([]byte, error) {
	if k < RevokeTokenID || k > RevokeToken {
		return nil, fmt.Errorf("bearer: no revocation kind %d", int(k))
	}
	return []byte(k.String()), nil
}

// UnmarshalText reads a kind's name.
func (k *RevocationKind) UnmarshalText(b []byte) error {
	for i, name := range revocationKinds {
		if i > 0 && name == string(b) {
			*k = RevocationKind(i)
			return nil
		}
	}
	return fmt.Errorf("bearer: revocation kind %q is none of jti, client, subject and token", b)
}

// Revocation is one rule taking tokens back.
type Revocation struct {
	Kind RevocationKind `json:"kind"`
	// Issuer is the issuer whose tokens the rule covers, exactly as
	// tokens name it in iss (for an issuer template, the tenant's own
	// issuer). Required, except for RevokeToken.
	Issuer string `json:"issuer,omitempty"`
	// Value is the jti, the client id, the subject, or the TokenHash.
	Value string `json:"value"`
	// Before, for RevokeClientBefore and RevokeSubjectBefore: tokens
	// issued before it are refused. A Before later than now is taken as
	// now (give or take a second): a rule never refuses tokens that are
	// not issued yet.
	Before time.Time `json:"before,omitzero"`
	// At is when the rule was made. Zero means now.
	At time.Time `json:"at,omitzero"`
	// Expires is when no token the rule covers can still be accepted, and
	// the rule is forgotten. Zero means: At (for a "before" rule, Before)
	// plus RevokerConfig.Retention plus MaxLeeway. A RevokeTokenID or
	// RevokeToken rule made from the token itself may say exactly: the
	// token's exp plus MaxLeeway.
	Expires time.Time `json:"expires,omitzero"`
	// Source says where the rule came from ("api", "redis", "ssf", "cli"),
	// and Reason why (a Shared Signals event type, an operator's note),
	// for the operator: neither reaches the caller of a refused request.
	Source string `json:"source,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// String describes the rule for logs and operators: "client billing of
// https://sso.example.com issued before 2026-05-01T12:00:00Z".
func (r Revocation) String() string {
	switch r.Kind {
	case RevokeTokenID:
		return fmt.Sprintf("jti %s of %s", r.Value, r.Issuer)
	case RevokeClientBefore, RevokeSubjectBefore:
		return fmt.Sprintf("%s %s of %s issued before %s", r.Kind, r.Value, r.Issuer, r.Before.UTC().Format(time.RFC3339))
	case RevokeToken:
		return "token " + r.Value
	}
	return "unknown revocation"
}

// TokenHash is the value of a RevokeToken rule for token: the hex SHA-256
// of the token as it is presented.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// A RevocationSink takes revocations in: a *Revoker applies them in this
// process, a fleet store such as bearerredis.Revocations in every replica.
type RevocationSink interface {
	Revoke(ctx context.Context, rules ...Revocation) error
}

// RevokerConfig configures a Revoker. The zero value means the defaults.
type RevokerConfig struct {
	// Retention bounds how long a token a rule covers may live, so that
	// rules can end: a "before" rule is kept for Retention (plus
	// MaxLeeway) after its Before, a rule on one token for Retention after
	// it was made unless it says when the token expires. To keep that
	// promise, a verifier with a Revoker refuses (ErrLifetime) tokens whose
	// exp is more than Retention after their iat, or, without iat, more
	// than Retention from now; a smaller Config.MaxTokenLifetime stands.
	// Zero means 24 hours, beyond the lifetimes Keycloak, Entra ID and
	// Spring Authorization Server give; at most 30 days.
	Retention time.Duration

	// MaxRules bounds how many rules are held at once; beyond it, Revoke
	// fails (a rule is never dropped before its end). Zero means
	// 1,000,000: some 250 bytes a rule with the identifiers issuers use,
	// 250 MB when full; at most 2^26.
	MaxRules int

	// Logger hears each rule received (at Info; a batch in one line) and
	// the failures of revocation sources. Nil means slog.Default().
	Logger *slog.Logger

	// Observer, if set, receives EventRevocationReceived for each rule
	// that covers more than before, and the events of revocation sources.
	Observer Observer

	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

const (
	defaultRetention = 24 * time.Hour
	maxRetention     = 30 * 24 * time.Hour
	defaultMaxRules  = 1_000_000
	maxMaxRules      = 1 << 26
	// beforeSkew is how far past now a rule's Before may reach: the
	// second of the event that caused it.
	beforeSkew = time.Second
	// maxRuleText bounds a rule's strings, so that a rule from a shared
	// store or a security event costs a bounded amount of memory.
	maxRuleText = 1024
)

// Revoker holds the revocation rules in force, for the verifiers that
// name it in Config.Revocation. It is safe for concurrent use, starts
// nothing and needs no Close.
type Revoker struct {
	set       *revocation.Set
	retention time.Duration
	now       func() time.Time
	log       *slog.Logger
	observer  Observer

	mu        sync.Mutex
	verifiers []weak.Pointer[Verifier]
	sources   map[string]*sourceState
	// refusal, when set, is the 503 every verifier answers: a revocation
	// source that is configured to fail closed cannot be read.
	refusal atomic.Pointer[Error]
}

// sourceState is what a Revoker knows of one revocation source.
type sourceState struct {
	outage  outage.Tracker
	refuses bool
}

// NewRevoker builds an empty Revoker.
func NewRevoker(cfg RevokerConfig) (*Revoker, error) {
	retention, err := within("RevokerConfig.Retention", cfg.Retention, defaultRetention, time.Minute, maxRetention)
	if err != nil {
		return nil, err
	}
	rules, err := count("RevokerConfig.MaxRules", cfg.MaxRules, defaultMaxRules, maxMaxRules)
	if err != nil {
		return nil, err
	}
	r := &Revoker{set: revocation.New(rules), retention: retention, now: cfg.Now, log: cfg.Logger, observer: cfg.Observer, sources: map[string]*sourceState{}}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r, nil
}

// Retention is the Revoker's RevokerConfig.Retention, or its default.
func (r *Revoker) Retention() time.Duration { return r.retention }

var errRevocationsFull = errors.New("bearer: the Revoker holds RevokerConfig.MaxRules rules")

// Revoke applies rules in this process: tokens they cover are refused from
// now on by every verifier using r, those in their token caches included.
// A rule that is invalid (see Revocation) makes Revoke fail before any is
// applied; rules beyond RevokerConfig.MaxRules are not applied, and Revoke
// reports it. A rule already held, or covered by a stronger one, changes
// nothing.
func (r *Revoker) Revoke(_ context.Context, rules ...Revocation) error {
	now := r.now()
	internal := make([]revocation.Rule, 0, len(rules))
	for _, rule := range rules {
		in, err := r.normalise(rule, now)
		if err != nil {
			return err
		}
		internal = append(internal, in)
	}
	changed, err := r.set.Add(internal, now.UnixNano())
	if len(changed) > 0 {
		r.purge()
		r.received(changed)
	}
	if errors.Is(err, revocation.ErrFull) {
		r.log.Error("bearer: revocations refused: the Revoker is full; raise RevokerConfig.MaxRules", "max_rules", r.set.Len())
		return errRevocationsFull
	}
	return err
}

// normalise checks a rule and fills in what it leaves to the Revoker.
func (r *Revoker) normalise(rule Revocation, now time.Time) (revocation.Rule, error) {
	bad := func(format string, args ...any) (revocation.Rule, error) {
		return revocation.Rule{}, fmt.Errorf("bearer: revocation %s: %s", rule.Kind, fmt.Sprintf(format, args...))
	}
	switch {
	case rule.Kind < RevokeTokenID || rule.Kind > RevokeToken:
		return bad("unknown kind %d", int(rule.Kind))
	case rule.Value == "":
		return bad("Value is empty")
	case rule.Kind != RevokeToken && rule.Issuer == "":
		return bad("Issuer is empty")
	case rule.Kind == RevokeToken && !isTokenHash(rule.Value):
		return bad("Value is not a TokenHash")
	case rule.Kind == RevokeToken && rule.Issuer != "":
		return bad("a token is revoked by its hash alone: Issuer must be empty")
	case len(rule.Issuer) > maxRuleText || len(rule.Value) > maxRuleText || len(rule.Reason) > maxRuleText || len(rule.Source) > maxRuleText:
		return bad("a field is longer than %d bytes", maxRuleText)
	}
	at := rule.At
	if at.IsZero() {
		at = now
	}
	in := revocation.Rule{Kind: revocation.Kind(rule.Kind), Issuer: rule.Issuer, Value: rule.Value, At: at.UnixNano(), Source: rule.Source, Reason: rule.Reason}
	keep := r.retention + MaxLeeway
	switch rule.Kind {
	case RevokeClientBefore, RevokeSubjectBefore:
		if rule.Before.IsZero() {
			return bad("Before is zero")
		}
		before := rule.Before
		if limit := now.Add(beforeSkew); before.After(limit) {
			before = limit
		}
		in.Before = before.UnixNano()
		// Whatever a replica with a shorter retention computed, this
		// Revoker keeps the rule as long as its own verifiers need.
		in.Expires = addNanos(before, keep)
		if !rule.Expires.IsZero() {
			in.Expires = max(in.Expires, rule.Expires.UnixNano())
		}
	default:
		in.Expires = addNanos(at, keep)
		if !rule.Expires.IsZero() {
			in.Expires = rule.Expires.UnixNano()
		}
	}
	return in, nil
}

func isTokenHash(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

// Rules returns the rules in force, by kind, issuer and value.
func (r *Revoker) Rules() []Revocation {
	held := r.set.Rules(r.now().UnixNano())
	out := make([]Revocation, len(held))
	for i, in := range held {
		out[i] = publicRule(in)
	}
	return out
}

func publicRule(in revocation.Rule) Revocation {
	out := Revocation{Kind: RevocationKind(in.Kind), Issuer: in.Issuer, Value: in.Value, At: time.Unix(0, in.At).UTC(), Expires: time.Unix(0, in.Expires).UTC(), Source: in.Source, Reason: in.Reason}
	if in.Before != 0 {
		out.Before = time.Unix(0, in.Before).UTC()
	}
	return out
}

// Revoked reports the rule that takes back a token with these claims (and,
// for RevokeToken rules, this token), if any: what a verifier asks of a
// token it judges afresh, for tools that explain a refusal.
func (r *Revoker) Revoked(c *Claims, token string) (Revocation, bool) {
	in, ok := r.match(c, token)
	if !ok {
		return Revocation{}, false
	}
	return publicRule(in), true
}

func (r *Revoker) match(c *Claims, token string) (revocation.Rule, bool) {
	f := revocation.TokenFacts{Issuer: c.Issuer, ID: c.ID, Client: c.ClientID, Subject: c.Subject}
	if !c.IssuedAt.IsZero() {
		f.IssuedAt, f.HasIssuedAt = c.IssuedAt.UnixNano(), true
	}
	f.Hash = func() string { return TokenHash(token) }
	return r.set.Match(&f, r.now().UnixNano())
}

// attach makes v's token cache purged of what new rules cover. v is held
// weakly: a verifier nobody uses any more is not kept alive by its
// Revoker.
func (r *Revoker) attach(v *Verifier) {
	r.mu.Lock()
	defer r.mu.Unlock()
	live := r.verifiers[:0]
	for _, w := range r.verifiers {
		if w.Value() != nil {
			live = append(live, w)
		}
	}
	r.verifiers = append(live, weak.Make(v))
}

// purge drops from the token caches of r's verifiers every entry a rule
// now covers. It follows the rules' storing and the move of the set's
// generation (see revocation.Set.Gen).
func (r *Revoker) purge() {
	r.mu.Lock()
	var vs []*Verifier
	for _, w := range r.verifiers {
		if v := w.Value(); v != nil {
			vs = append(vs, v)
		}
	}
	r.mu.Unlock()
	for _, v := range vs {
		v.forgetRevoked()
	}
}

// forgetRevoked drops the tokens v accepted that its Revoker now covers.
// The cache may be shared with the other issuers of a MultiVerifier, whose
// own Revoker judges their tokens.
func (v *Verifier) forgetRevoked() {
	if v.cache == nil {
		return
	}
	v.cache.Purge(func(e *tokencache.Entry[verdict]) bool {
		c := e.Value.claims
		if c == nil || c.by != v {
			return false
		}
		_, revoked := v.revoker.match(c, e.Token)
		return revoked
	})
}

// received reports rules that cover more than before.
func (r *Revoker) received(rules []revocation.Rule) {
	if r.observer != nil {
		for _, in := range rules {
			rule := publicRule(in)
			r.observer.Observe(Event{Kind: EventRevocationReceived, Issuer: rule.Issuer, Source: rule.Source, Revocation: &rule})
		}
	}
	if !r.log.Enabled(context.Background(), slog.LevelInfo) {
		return
	}
	if len(rules) == 1 {
		rule := publicRule(rules[0])
		attrs := []slog.Attr{slog.String("kind", rule.Kind.String()), slog.String("value", rule.Value)}
		if rule.Issuer != "" {
			attrs = append(attrs, slog.String("issuer", rule.Issuer))
		}
		if !rule.Before.IsZero() {
			attrs = append(attrs, slog.Time("before", rule.Before))
		}
		attrs = append(attrs, slog.Time("expires", rule.Expires), slog.String("source", rule.Source))
		if rule.Reason != "" {
			attrs = append(attrs, slog.String("reason", rule.Reason))
		}
		r.log.LogAttrs(context.Background(), slog.LevelInfo, "bearer: tokens revoked", attrs...)
		return
	}
	counts := map[string]int{}
	for _, in := range rules {
		counts[RevocationKind(in.Kind).String()]++
	}
	attrs := []slog.Attr{slog.Int("rules", len(rules)), slog.String("source", rules[0].Source)}
	for _, k := range revocationKinds[1:] {
		if counts[k] > 0 {
			attrs = append(attrs, slog.Int(k, counts[k]))
		}
	}
	r.log.LogAttrs(context.Background(), slog.LevelInfo, "bearer: tokens revoked", attrs...)
}

// SourceFailed reports that the revocation source named source (a shared
// store, a transmitter of security events) could not be read: rules it
// sent may be missing. The rules held stay in force. With refuse, every
// verifier using r answers 503 (ErrRevocationsUnavailable) from now on,
// cache hits included, until SourceRecovered: for deployments that would
// rather stop than accept a token that may have been revoked. The log is
// paced as key fetches' are: the first failure, then a line a minute.
func (r *Revoker) SourceFailed(source string, err error, refuse bool) {
	now := r.now()
	r.mu.Lock()
	s := r.source(source)
	s.refuses = refuse
	tell := s.outage.Fail(now)
	r.setRefusalLocked(err)
	r.mu.Unlock()
	if r.observer != nil {
		r.observer.Observe(Event{Kind: EventRevocationSourceFailed, Source: source, Err: err, Failures: tell.Failures})
	}
	switch tell.Kind {
	case outage.First:
		r.log.Warn("bearer: revocation source cannot be read; the revocations held stay in force", "source", source, "refusing_requests", refuse, "err", err)
	case outage.Again:
		r.log.Warn("bearer: revocation source still cannot be read", "source", source, "failures", tell.Since, "failures_total", tell.Failures, "since", tell.Lasted, "refusing_requests", refuse, "err", err)
	}
}

// SourceRecovered reports that source was read again, after SourceFailed:
// requests are judged again if it had made verifiers refuse them.
func (r *Revoker) SourceRecovered(source string) {
	now := r.now()
	r.mu.Lock()
	s := r.source(source)
	s.refuses = false
	tell := s.outage.Succeed(now)
	r.setRefusalLocked(nil)
	r.mu.Unlock()
	if tell.Kind != outage.Recovered {
		return
	}
	if r.observer != nil {
		r.observer.Observe(Event{Kind: EventRevocationSourceRecovered, Source: source, Failures: tell.Failures, Age: tell.Lasted})
	}
	r.log.Info("bearer: revocation source readable again", "source", source, "failures", tell.Failures, "outage", tell.Lasted)
}

func (r *Revoker) source(name string) *sourceState {
	s := r.sources[name]
	if s == nil {
		s = &sourceState{outage: outage.Tracker{Every: summaryEvery}}
		r.sources[name] = s
	}
	return s
}

// setRefusalLocked refuses requests while any source that fails closed is
// failing.
func (r *Revoker) setRefusalLocked(err error) {
	for name, s := range r.sources {
		if s.refuses {
			if err == nil {
				err = fmt.Errorf("revocation source %s cannot be read", name)
			}
			r.refusal.Store(&Error{Err: fmt.Errorf("%w: %w", ErrRevocationsUnavailable, err), Description: "the list of revoked tokens cannot be brought up to date", RetryAfter: time.Second})
			return
		}
	}
	r.refusal.Store(nil)
}

// revocationGen is what a verification reads of its Revoker before it
// looks its token up: the set's generation, checked again once the
// verdict is cached (see rememberVerified).
func (v *Verifier) revocationGen() uint64 {
	if v.revoker == nil {
		return 0
	}
	return v.revoker.set.Gen()
}

// revocationMoved reports whether a rule came in since gen was read.
func (v *Verifier) revocationMoved(gen uint64) bool {
	return v.revoker != nil && v.revoker.set.Gen() != gen
}

// checkRevoked refuses a token its Revoker covers, and every token while a
// revocation source that fails closed cannot be read.
func (v *Verifier) checkRevoked(c *Claims, token string) *Error {
	rv := v.revoker
	if rv == nil {
		return nil
	}
	if e := rv.refusal.Load(); e != nil {
		return e
	}
	rule, ok := rv.match(c, token)
	if !ok {
		return nil
	}
	return &Error{Code: CodeInvalidToken, Err: &RevokedError{Rule: publicRule(rule)}, Description: "the token was revoked"}
}

// RevokedError is the Err of a refusal because a token was revoked: it
// wraps ErrRevoked and carries the rule, for the application and tools
// (errors.As); the caller's answer says only that the token was revoked.
type RevokedError struct {
	Rule Revocation
}

func (e *RevokedError) Error() string { return ErrRevoked.Error() + " by rule " + e.Rule.String() }

// Unwrap returns ErrRevoked.
func (e *RevokedError) Unwrap() error { return ErrRevoked }

// revocationLifetime is the longest lifetime a token may have under v's
// Revoker, or 0 when MaxTokenLifetime is as strict already.
func revocationLifetime(rv *Revoker, maxLifetime time.Duration) time.Duration {
	if rv == nil || (maxLifetime > 0 && maxLifetime <= rv.retention) {
		return 0
	}
	return rv.retention
}

// checkRevocationLifetime refuses tokens that could outlive the rules that
// may cover them (see RevokerConfig.Retention).
func (v *Verifier) checkRevocationLifetime(p *payload, now time.Time) *Error {
	limit := v.revocationLifetime
	if limit == 0 || !p.Exp.Set {
		return nil
	}
	if p.Iat.Set {
		if life := p.Exp.Sub(p.Iat.Time); life > limit {
			return tokenError(ErrLifetime, "the token's lifetime of %v exceeds the %v for which revocations are kept", life, limit)
		}
		return nil
	}
	if left := p.Exp.Sub(now); left > limit {
		return tokenError(ErrLifetime, "the token has no iat and expires more than the %v for which revocations are kept from now", limit)
	}
	return nil
}
