package bearer

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bouncer-go/bouncer/core/internal/tally"
)

// Every decision (a token accepted, refused, denied by a policy, or not
// judged because the issuer could not be reached) is an Event for the
// Observer, with its reason, and is counted for the log. Refusals are
// logged one by one at Debug only: at Info, a flood of junk tokens would
// become a flood of log lines, each costing more than the refusal. Instead
// a summary of the refusals, by reason, is logged at Info (Warn when the
// issuer could not be reached) a minute after the first of them, from a
// timer, so an operator sees "18 unknown_key" after an abrupt rotation
// without turning anything on, even when nothing follows the burst. The
// timer runs only while refusals wait to be summarised, and Close writes
// what is left.

// summaryEvery is how often refusals are summarised in the log.
const summaryEvery = time.Minute

// Reason is the short, stable name of why err refused a request, for
// metrics and logs: "expired", "audience", "insufficient_scope",
// "issuer_unavailable"… It is "" for nil and "other" for an error that
// wraps no bouncer sentinel.
func Reason(err error) string {
	if err == nil {
		return ""
	}
	for _, r := range reasons {
		if errors.Is(err, r.sentinel) {
			return r.name
		}
	}
	return "other"
}

var reasons = []struct {
	sentinel error
	name     string
}{
	{ErrIssuerUnavailable, "issuer_unavailable"},
	{ErrRevocationsUnavailable, "revocations_unavailable"},
	{ErrMissingToken, "missing_token"},
	{ErrInvalidRequest, "invalid_request"},
	{ErrMalformed, "malformed"},
	{ErrAlgorithm, "algorithm"},
	{ErrUnknownKey, "unknown_key"},
	{ErrSignature, "signature"},
	{ErrExpired, "expired"},
	{ErrNotYetValid, "not_yet_valid"},
	{ErrIssuer, "issuer"},
	{ErrAudience, "audience"},
	{ErrType, "type"},
	{ErrSenderConstrained, "sender_constrained"},
	{ErrLifetime, "lifetime"},
	{ErrClaim, "claim"},
	{ErrInactive, "inactive"},
	{ErrRevoked, "revoked"},
	{ErrInsufficientScope, "insufficient_scope"},
}

// trace collects, along a verification, what an event may report.
type trace struct {
	kid, alg string
	iss      string   // the token's iss, once read
	aud      []string // the token's aud, once read
	cached   bool
	start    time.Time // zero unless an observer is set
}

// telemetry is a Verifier's decision reporting.
type telemetry struct {
	log      *slog.Logger
	observer Observer
	issuer   string
	refusals *tally.Tally // refusals by reason, for the summary

	accepted    atomic.Int64 // 1 once any token was accepted
	audRefusals atomic.Int64 // audience refusals while none was ever accepted
	warnedOnce  sync.Map     // messages logged once
}

func newTelemetry(log *slog.Logger, observer Observer, issuer string) *telemetry {
	t := &telemetry{log: log, observer: observer, issuer: issuer}
	t.summariseEvery(summaryEvery)
	return t
}

// summariseEvery sets how long after the first refusal of a window the
// summary is written; before any use.
func (t *telemetry) summariseEvery(d time.Duration) {
	t.refusals = tally.New(tally.Config{Every: d, Report: t.summarise})
}

// close writes the summary of the refusals not yet summarised and stops
// its timer.
func (t *telemetry) close() { t.refusals.Close() }

// begin starts a trace, with a start time only when someone will read it.
func (t *telemetry) begin() trace {
	if t.observer != nil {
		return trace{start: time.Now()}
	}
	return trace{}
}

// decide reports one decision.
func (t *telemetry) decide(ctx context.Context, tr *trace, c *Claims, err error) {
	if err == nil {
		if t.accepted.Load() == 0 { // read-mostly: no contention on the hot path
			t.accepted.Store(1)
		}
		if t.observer == nil {
			return
		}
	}
	// The configured issuer (a template, not each tenant's issuer) keeps
	// the set of values an Observer sees bounded.
	ev := Event{Kind: EventAccepted, Issuer: t.issuer, KeyID: tr.kid, Alg: tr.alg, Cached: tr.cached}
	if c != nil {
		ev.ClientID = c.ClientID
		if c.by != nil {
			ev.Issuer = c.by.issuer
		}
	}
	if err != nil {
		e := AsError(err)
		ev.Err, ev.Reason, ev.Status, ev.Scope = err, Reason(err), e.StatusCode(), e.Scope
		switch ev.Status {
		case 503:
			ev.Kind = EventUnavailable
		case 403:
			ev.Kind = EventDenied
		default:
			ev.Kind = EventRefused
		}
		t.count(ctx, ev, tr)
	} else {
		ev.Status = 200
	}
	if !tr.start.IsZero() {
		ev.Duration = time.Since(tr.start)
	}
	if co, ok := t.observer.(ContextObserver); ok {
		co.ObserveContext(ctx, ev)
	} else if t.observer != nil {
		t.observer.Observe(ev)
	}
}

// count logs a refusal at Debug, counts it for the summary, and notices a
// configured audience that no token has ever named.
func (t *telemetry) count(ctx context.Context, ev Event, tr *trace) {
	if t.log.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{slog.String("reason", ev.Reason), slog.Int("status", ev.Status), slog.String("issuer", ev.Issuer)}
		if ev.KeyID != "" {
			attrs = append(attrs, slog.String("kid", ev.KeyID))
		}
		if ev.ClientID != "" {
			attrs = append(attrs, slog.String("client_id", ev.ClientID))
		}
		attrs = append(attrs, slog.String("err", ev.Err.Error()))
		t.log.LogAttrs(ctx, slog.LevelDebug, "bearer: request refused", attrs...)
	}
	t.refusals.Add(ev.Reason)
	if ev.Reason == "audience" && t.accepted.Load() == 0 && t.audRefusals.Add(1) == 10 {
		t.once("audience", slog.LevelWarn, "bearer: every token so far names another audience than this API's: set Config.Audiences to the aud your issuer puts in tokens (Keycloak: add an audience mapper; Entra v2: the API's client id)",
			slog.Any("token_aud", tr.aud))
	}
}

// summarise logs the refusals of one window, by reason.
func (t *telemetry) summarise(counts map[string]int, window time.Duration) {
	level := slog.LevelInfo
	if counts["issuer_unavailable"] > 0 {
		level = slog.LevelWarn
	}
	names := make([]string, 0, len(counts))
	total := 0
	for n, c := range counts {
		names = append(names, n)
		total += c
	}
	sort.Strings(names)
	attrs := []slog.Attr{slog.String("issuer", t.issuer), slog.Int("refused", total), slog.Duration("since", window)}
	for _, n := range names {
		attrs = append(attrs, slog.Int(n, counts[n]))
	}
	t.log.LogAttrs(context.Background(), level, "bearer: refusals", attrs...)
}

// once logs msg the first time it is asked to.
func (t *telemetry) once(key string, level slog.Level, msg string, attrs ...slog.Attr) {
	if _, dup := t.warnedOnce.LoadOrStore(key, true); dup {
		return
	}
	t.log.LogAttrs(context.Background(), level, msg, append([]slog.Attr{slog.String("issuer", t.issuer)}, attrs...)...)
}

// isExpectedSkip reports a published key that is not for signatures by
// design (Keycloak always publishes an RSA-OAEP encryption key): worth a
// Debug line once, not a warning on every refresh.
func isExpectedSkip(reason string) bool {
	return strings.HasPrefix(reason, "use is ") || strings.HasPrefix(reason, "key_ops ")
}
