package main

import (
	"bytes"
	"log/slog"
	"sync"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// recorder keeps what package bearer reports while it works: its events
// (keys fetched, skipped, fetches failed) and the lines it logs at Warn and
// above, which are what an API's operator would find in the log.
type recorder struct {
	mu     sync.Mutex
	events []bearer.Event
	log    bytes.Buffer
}

// Observe is called from bouncer's fetch goroutine.
func (r *recorder) Observe(e bearer.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Write takes one log line.
func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.Write(p)
}

func (r *recorder) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(r, &slog.HandlerOptions{
		Level: slog.LevelWarn,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// of returns the events of one kind, in order.
func (r *recorder) of(kind bearer.EventKind) []bearer.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []bearer.Event
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// logged is what bouncer logged at Warn and above.
func (r *recorder) logged() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}
