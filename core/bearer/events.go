package bearer

import (
	"context"
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
}

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
}

// Observer receives key events, for metrics and alerts. Observe is called
// synchronously, never with a lock held, and must not block.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// emit logs e at a level fitting its kind and hands it to the observer.
func (s *keySource) emit(events ...Event) {
	for _, e := range events {
		e.Issuer = s.issuer
		level := slog.LevelDebug
		switch e.Kind {
		case EventFetchFailed, EventStaleKeys, EventKeySkipped, EventIntrospectionFailed, EventSharedCacheFailed:
			level = slog.LevelWarn
		case EventKeyAdded, EventKeyRemoved:
			level = slog.LevelInfo
		}
		if s.log.Enabled(context.Background(), level) {
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
			s.log.LogAttrs(context.Background(), level, "bearer: issuer keys", attrs...)
		}
		if s.observer != nil {
			s.observer.Observe(e)
		}
	}
}
