// Package coarseclock is a clock read with one atomic load.
//
// Answering a repeated token from a cache costs a few tens of nanoseconds,
// except for reading the time to see it has not expired: time.Now costs
// from 20 ns to several hundred where the clock read is trapped (some
// virtual machines and sandboxes). One goroutine per process refreshes
// this clock every Tick instead, so a cached answer may be given up to
// Tick after the instant it stopped being valid: negligible beside any
// token's lifetime and leeway, and never a token that was refused.
package coarseclock

import (
	"sync"
	"sync/atomic"
	"time"
)

// Tick is how often the clock advances.
const Tick = 5 * time.Millisecond

var (
	now   atomic.Int64
	start sync.Once
)

// Now returns the Unix time in nanoseconds, at most Tick old.
func Now() int64 {
	start.Do(func() {
		now.Store(time.Now().UnixNano())
		go func() {
			for t := range time.Tick(Tick) {
				now.Store(t.UnixNano())
			}
		}()
	})
	return now.Load()
}
