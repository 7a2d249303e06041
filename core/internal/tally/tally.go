// Package tally counts occurrences by name and reports the counts at most
// once per interval, from a timer.
//
// A verifier summarises its refusals ("18 unknown_key in the last minute")
// rather than logging each one, which a flood of junk tokens would turn
// into a flood of lines. Reporting on the next occurrence after the
// interval would never report a burst followed by quiet, so the first
// occurrence after a report arms a timer, and the counts are reported when
// it fires. Nothing runs while there is nothing to report: a Tally that
// counts nothing starts no timer, and one whose counts were reported has
// none pending. Close stops the timer and reports what is left.
package tally

import (
	"sync"
	"time"
)

// Timer is what Config.AfterFunc returns: *time.Timer, or a test's own.
type Timer interface{ Stop() bool }

// Config configures a Tally.
type Config struct {
	// Every is how long after the first occurrence of a window its counts
	// are reported.
	Every time.Duration
	// Report receives the counts of a window (never empty) and its
	// length. It is called without any lock of the Tally held, one call at
	// a time.
	Report func(counts map[string]int, window time.Duration)
	// Now and AfterFunc are the clock and timers; nil means time.Now and
	// time.AfterFunc.
	Now       func() time.Time
	AfterFunc func(time.Duration, func()) Timer
}

// Tally counts occurrences by name. It is safe for concurrent use.
type Tally struct {
	cfg Config

	reporting sync.Mutex // held while counts are reported: Close waits for a report in progress

	mu     sync.Mutex
	counts map[string]int
	began  time.Time // the window's first occurrence
	timer  Timer     // nil when no window is open
	closed bool
}

// New returns a Tally reporting with cfg.
func New(cfg Config) *Tally {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AfterFunc == nil {
		cfg.AfterFunc = func(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
	}
	return &Tally{cfg: cfg}
}

// Add counts one occurrence of name, and opens a window if none is open.
// After Close it does nothing.
func (t *Tally) Add(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if t.counts == nil {
		t.counts = map[string]int{}
	}
	t.counts[name]++
	if t.timer == nil {
		t.began = t.cfg.Now()
		t.timer = t.cfg.AfterFunc(t.cfg.Every, t.fire)
	}
}

// fire ends the open window and reports it.
func (t *Tally) fire() {
	t.reporting.Lock()
	defer t.reporting.Unlock()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	counts, window := t.take()
	t.mu.Unlock()
	t.report(counts, window)
}

// take ends the open window; t.mu is held.
func (t *Tally) take() (map[string]int, time.Duration) {
	counts := t.counts
	var window time.Duration
	if t.timer != nil {
		window = t.cfg.Now().Sub(t.began)
	}
	t.counts, t.timer = nil, nil
	return counts, window
}

func (t *Tally) report(counts map[string]int, window time.Duration) {
	if len(counts) > 0 {
		t.cfg.Report(counts, window)
	}
}

// Close stops the timer and reports the open window's counts, waiting for
// a report already in progress; afterwards nothing is reported. It is
// safe to call more than once.
func (t *Tally) Close() {
	t.reporting.Lock()
	defer t.reporting.Unlock()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	t.closed = true
	if t.timer != nil {
		t.timer.Stop()
	}
	counts, window := t.take()
	t.mu.Unlock()
	t.report(counts, window)
}
