package tally

import (
	"maps"
	"sync"
	"testing"
	"time"
)

// fakeTimers runs timer functions when the test says so.
type fakeTimers struct {
	mu      sync.Mutex
	now     time.Time
	pending []*fakeTimer
}

type fakeTimer struct {
	at      time.Time
	f       func()
	stopped bool
}

func (t *fakeTimer) Stop() bool {
	was := !t.stopped
	t.stopped = true
	return was
}

func (ft *fakeTimers) Now() time.Time {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return ft.now
}

func (ft *fakeTimers) AfterFunc(d time.Duration, f func()) Timer {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	t := &fakeTimer{at: ft.now.Add(d), f: f}
	ft.pending = append(ft.pending, t)
	return t
}

// Advance moves the clock and runs the timers that came due.
func (ft *fakeTimers) Advance(d time.Duration) {
	ft.mu.Lock()
	ft.now = ft.now.Add(d)
	var due []*fakeTimer
	rest := ft.pending[:0]
	for _, t := range ft.pending {
		if !t.at.After(ft.now) {
			due = append(due, t)
		} else {
			rest = append(rest, t)
		}
	}
	ft.pending = rest
	ft.mu.Unlock()
	for _, t := range due {
		if !t.stopped {
			t.f()
		}
	}
}

func (ft *fakeTimers) armed() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	n := 0
	for _, t := range ft.pending {
		if !t.stopped {
			n++
		}
	}
	return n
}

type reports struct {
	mu   sync.Mutex
	got  []map[string]int
	wins []time.Duration
}

func (r *reports) add(c map[string]int, w time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, maps.Clone(c))
	r.wins = append(r.wins, w)
}

func newTally() (*Tally, *fakeTimers, *reports) {
	ft := &fakeTimers{now: time.Unix(1_700_000_000, 0)}
	r := &reports{}
	return New(Config{Every: time.Minute, Report: r.add, Now: ft.Now, AfterFunc: ft.AfterFunc}), ft, r
}

// A burst followed by quiet is reported a minute after it began, with no
// later occurrence needed; then nothing is armed until the next one.
func TestBurstThenQuietIsReported(t *testing.T) {
	ta, ft, r := newTally()
	if ft.armed() != 0 {
		t.Fatal("a timer before anything was counted")
	}
	for range 18 {
		ta.Add("unknown_key")
	}
	ta.Add("expired")
	ft.Advance(59 * time.Second)
	if len(r.got) != 0 {
		t.Fatal("reported before the minute was over")
	}
	ft.Advance(time.Second)
	if len(r.got) != 1 || r.got[0]["unknown_key"] != 18 || r.got[0]["expired"] != 1 || r.wins[0] != time.Minute {
		t.Fatalf("reports %v over %v", r.got, r.wins)
	}
	if ft.armed() != 0 {
		t.Fatal("a timer left armed with nothing to report")
	}
	ft.Advance(time.Hour)
	if len(r.got) != 1 {
		t.Fatalf("reported %d times with nothing counted", len(r.got))
	}
	ta.Add("expired")
	ft.Advance(time.Minute)
	if len(r.got) != 2 || r.got[1]["expired"] != 1 {
		t.Fatalf("second window: %v", r.got)
	}
}

// A steady stream is reported once a minute, not once per occurrence.
func TestSteadyStreamOnceAMinute(t *testing.T) {
	ta, ft, r := newTally()
	for range 600 { // one a second for ten minutes
		ta.Add("malformed")
		ft.Advance(time.Second)
	}
	if len(r.got) != 10 {
		t.Fatalf("%d reports in ten minutes", len(r.got))
	}
	total := 0
	for _, c := range r.got {
		total += c["malformed"]
	}
	if total != 600 {
		t.Fatalf("reports counted %d of 600", total)
	}
}

// Close reports what is left, stops the timer, and ends reporting.
func TestCloseFlushesAndStops(t *testing.T) {
	ta, ft, r := newTally()
	ta.Add("audience")
	ft.Advance(10 * time.Second)
	ta.Close()
	if len(r.got) != 1 || r.got[0]["audience"] != 1 || r.wins[0] != 10*time.Second {
		t.Fatalf("Close reported %v over %v", r.got, r.wins)
	}
	if ft.armed() != 0 {
		t.Fatal("the timer outlives Close")
	}
	ta.Add("audience")
	ft.Advance(time.Hour)
	ta.Close()
	if len(r.got) != 1 || ft.armed() != 0 {
		t.Fatalf("reported after Close: %v", r.got)
	}
}

// With real timers, Close waits for a report in progress and none follows.
func TestRealTimerAndClose(t *testing.T) {
	var mu sync.Mutex
	n := 0
	ta := New(Config{Every: 10 * time.Millisecond, Report: func(c map[string]int, _ time.Duration) {
		mu.Lock()
		n += c["x"]
		mu.Unlock()
	}})
	ta.Add("x")
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		done := n == 1
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the timer never reported")
		}
		time.Sleep(time.Millisecond)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				ta.Add("x")
			}
		})
	}
	wg.Go(ta.Close)
	wg.Wait()
	ta.Close()
	mu.Lock()
	before := n
	mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if n != before || n > 401 {
		t.Fatalf("%d counted after Close returned (%d before)", n-before, before)
	}
}
