package bearer

import (
	"context"
	"errors"
	"log/slog"
	"time"
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
	// failed (Err says why); the in-process cache carried on.
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

	// Decisions only.
	Reason   string
	Status   int
	Alg      string
	ClientID string
	Scope    []string
	Duration time.Duration
	Cached   bool
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
func (s *keySource) emit(events ...Event) {
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
		if e.Kind == EventKeySkipped {
			_, quiet = s.skipped.LoadOrStore(e.KeyID+"\x00"+e.Err.Error(), true)
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
