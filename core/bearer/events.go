package bearer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/bouncer-go/bouncer/core/internal/outage"
)

// EventKind names something that happened to a Verifier's view of its
// issuer's keys.
type EventKind int

// The events an Observer receives.
const (
	// EventFetchSucceeded: discovery and the JWKS were read; Keys holds
	// the number of usable keys.
	EventFetchSucceeded EventKind = iota + 1
	// EventFetchFailed: a fetch failed (Err says why). Keys already held
	// stay in use, up to Config.MaxStale.
	EventFetchFailed
	// EventRefreshScheduled: the next background refresh is due after
	// Next (from the issuer's Cache-Control or Expires, or the default).
	EventRefreshScheduled
	// EventKeyAdded and EventKeyRemoved: a key (KeyID) appeared in or
	// left the issuer's set.
	EventKeyAdded
	EventKeyRemoved
	// EventKeySkipped: a published entry cannot verify signatures and was
	// left out (Err says why).
	EventKeySkipped
	// EventStaleKeys: the keys in use are past their refresh time and the
	// issuer cannot be reached; Age is how long past. Reported once per
	// failed refresh.
	EventStaleKeys
	// EventUnknownKeyThrottled: a token named an unknown kid (KeyID) and
	// the JWKS was not refetched because the last fetch is more recent
	// than Config.RefetchCooldown.
	EventUnknownKeyThrottled
	// EventIntrospectionFailed: a call to the introspection endpoint
	// failed (Err says why); the request got 503.
	EventIntrospectionFailed
	// EventSharedCacheFailed: the shared cache (Introspection.Shared)
	// failed, or held an entry that does not verify with
	// Introspection.SharedKey (Err says why); the in-process cache
	// carried on.
	EventSharedCacheFailed

	// Decisions, one per Verify, VerifyRequest or Check. Reason names the
	// refusal (see Reason), Status the HTTP status answered; KeyID, Alg
	// and ClientID are given when known, Duration when an Observer is
	// set, Cached when the token was answered from the cache. The token
	// itself is never part of an event.

	// EventAccepted: the token was accepted (and the policies held).
	EventAccepted
	// EventRefused: the request or its token was refused (400 or 401).
	EventRefused
	// EventDenied: a valid token lacked what a policy asks (403); Scope
	// lists the scopes that would have granted access.
	EventDenied
	// EventUnavailable: the token could not be judged because the issuer
	// could not be reached (503).
	EventUnavailable

	// EventFetchRecovered (a key event, numbered after the decisions): a
	// fetch succeeded after Failures consecutive failed ones; Age is how
	// long since the first of them, Keys the number of usable keys now.
	// It comes before that fetch's EventFetchSucceeded.
	EventFetchRecovered

	// Revocations (see Revoker), reported by a Revoker's
	// RevokerConfig.Observer, not a verifier's.

	// EventRevocationReceived: a rule that covers tokens not covered
	// before came in (Revocation; Source says whence, Issuer whose
	// tokens). A rule held already changes nothing and is not reported.
	EventRevocationReceived
	// EventRevocationSourceFailed: the revocation source Source could not
	// be read (Err says why); the rules held stay in force. Failures
	// counts the failures of the run so far.
	EventRevocationSourceFailed
	// EventRevocationSourceRecovered: Source was read again after Failures
	// failures; Age is how long since the first of them.
	EventRevocationSourceRecovered
)

var eventNames = map[EventKind]string{
	EventFetchSucceeded:      "fetch_succeeded",
	EventFetchFailed:         "fetch_failed",
	EventRefreshScheduled:    "refresh_scheduled",
	EventKeyAdded:            "key_added",
	EventKeyRemoved:          "key_removed",
	EventKeySkipped:          "key_skipped",
	EventStaleKeys:           "stale_keys",
	EventUnknownKeyThrottled: "unknown_key_throttled",
	EventIntrospectionFailed: "introspection_failed",
	EventSharedCacheFailed:   "shared_cache_failed",
	EventAccepted:            "accepted",
	EventRefused:             "refused",
	EventDenied:              "denied",
	EventUnavailable:         "unavailable",
	EventFetchRecovered:      "fetch_recovered",

	EventRevocationReceived:        "revocation_received",
	EventRevocationSourceFailed:    "revocation_source_failed",
	EventRevocationSourceRecovered: "revocation_source_recovered",
}

// String is the event's name in logs: "fetch_succeeded", "key_added"…
func (k EventKind) String() string {
	if n, ok := eventNames[k]; ok {
		return n
	}
	return "unknown"
}

// Event is one occurrence, with the fields its Kind documents.
type Event struct {
	Kind   EventKind
	Issuer string
	KeyID  string
	Keys   int
	Next   time.Duration
	Age    time.Duration
	Err    error
	// Failures counts the failed fetches an EventFetchRecovered ends.
	Failures int

	// Decisions only.
	Reason   string
	Status   int
	Alg      string
	ClientID string
	Scope    []string
	Duration time.Duration
	Cached   bool

	// Revocation events only.
	Source     string      // the revocation source: "api", "redis", "ssf"…
	Revocation *Revocation // the rule received
}

// Observer receives key events and decisions, for metrics and alerts. Observe is called
// synchronously, never with a lock held, and must not block.
type Observer interface {
	Observe(Event)
}

// ContextObserver is an Observer that also wants the context of the
// request a decision was made for, e.g. to annotate its trace span.
// Decisions go to ObserveContext instead of Observe; key events, which
// belong to no request, still go to Observe.
type ContextObserver interface {
	Observer
	ObserveContext(ctx context.Context, e Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// emit logs e at a level fitting its kind and hands it to the observer.
// A skipped key is logged once, not on every refresh (at Debug when it is
// not meant for signatures by design, like Keycloak's encryption key); a
// discovery document naming another issuer is logged at Error once, with
// what to change.
func (s *keySource) emit(events ...Event) { s.emitEvents(events, true) }

// report emits the events of one fetch, with the log paced over a run of
// failed fetches as outage.Tracker decides: the first failure (and the
// stale keys it leaves) is logged in full, then at most one summary per
// summaryEvery with the count, then the recovery, once, at Info. The
// Observer hears every event.
func (s *keySource) report(events []Event, tell outage.Report) {
	s.emitEvents(events, tell.Kind == outage.First)
	attrs := []slog.Attr{slog.String("issuer", s.issuer)}
	switch tell.Kind {
	case outage.Again:
		attrs = append(attrs, slog.Int("failures", tell.Since), slog.Int("failures_total", tell.Failures), slog.Duration("since", tell.Lasted))
		for _, e := range events {
			switch e.Kind {
			case EventFetchFailed:
				attrs = append(attrs, slog.String("err", e.Err.Error()))
			case EventStaleKeys:
				attrs = append(attrs, slog.Int("keys", e.Keys), slog.Duration("age", e.Age))
			}
		}
		if s.tel.log.Enabled(context.Background(), slog.LevelWarn) {
			s.tel.log.LogAttrs(context.Background(), slog.LevelWarn, "bearer: issuer keys still cannot be fetched", attrs...)
		}
	case outage.Recovered:
		var added, removed []string
		keys := 0
		for _, e := range events {
			switch e.Kind {
			case EventKeyAdded:
				added = append(added, e.KeyID)
			case EventKeyRemoved:
				removed = append(removed, e.KeyID)
			case EventFetchRecovered:
				keys = e.Keys
			}
		}
		failures := "failures"
		if tell.Failures == 1 {
			failures = "failure"
		}
		change := "keys unchanged"
		if len(added)+len(removed) > 0 {
			change = "keys changed"
			for name, kids := range map[string][]string{"added": added, "removed": removed} {
				if len(kids) > 0 {
					sort.Strings(kids)
					attrs = append(attrs, slog.Any(name, kids))
				}
			}
		}
		attrs = append(attrs, slog.Int("failures", tell.Failures), slog.Duration("outage", tell.Lasted), slog.Int("keys", keys))
		if s.tel.log.Enabled(context.Background(), slog.LevelInfo) {
			s.tel.log.LogAttrs(context.Background(), slog.LevelInfo,
				fmt.Sprintf("bearer: issuer reachable again after %d %s, %s", tell.Failures, failures, change), attrs...)
		}
	}
}

// emitEvents is emit; logFailures false leaves failed fetches and stale
// keys out of the log (a run of failures is summarised by report).
func (s *keySource) emitEvents(events []Event, logFailures bool) {
	for _, e := range events {
		e.Issuer = s.issuer
		level := slog.LevelDebug
		switch e.Kind {
		case EventFetchFailed, EventStaleKeys, EventIntrospectionFailed, EventSharedCacheFailed:
			level = slog.LevelWarn
		case EventKeyAdded, EventKeyRemoved:
			level = slog.LevelInfo
		case EventKeySkipped:
			if !isExpectedSkip(e.Err.Error()) {
				level = slog.LevelWarn
			}
		}
		quiet := false
		switch e.Kind {
		case EventKeySkipped:
			_, quiet = s.skipped.LoadOrStore(e.KeyID+"\x00"+e.Err.Error(), true)
		case EventFetchFailed, EventStaleKeys:
			quiet = !logFailures
		case EventFetchRecovered:
			quiet = true // report says it
		}
		var mismatch *issuerMismatchError
		if e.Kind == EventFetchFailed && errors.As(e.Err, &mismatch) {
			s.tel.once("mismatch:"+mismatch.got, slog.LevelError, "bearer: the issuer's discovery document names another issuer: set Config.Issuer to exactly the issuer in the document (mind a trailing slash, /auth for old Keycloak, v1 or v2 for Entra)",
				slog.String("configured", s.issuer), slog.String("document", mismatch.got))
		}
		if !quiet && s.tel.log.Enabled(context.Background(), level) {
			attrs := []slog.Attr{slog.String("event", e.Kind.String()), slog.String("issuer", e.Issuer)}
			if e.KeyID != "" {
				attrs = append(attrs, slog.String("kid", e.KeyID))
			}
			if e.Kind == EventFetchSucceeded {
				attrs = append(attrs, slog.Int("keys", e.Keys))
			}
			if e.Next > 0 {
				attrs = append(attrs, slog.Duration("next", e.Next))
			}
			if e.Age > 0 {
				attrs = append(attrs, slog.Duration("age", e.Age))
			}
			if e.Err != nil {
				attrs = append(attrs, slog.String("err", e.Err.Error()))
			}
			s.tel.log.LogAttrs(context.Background(), level, "bearer: issuer keys", attrs...)
		}
		if s.tel.observer != nil {
			s.tel.observer.Observe(e)
		}
	}
}
