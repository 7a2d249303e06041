package integration

import (
	"sync"

	"testing"
	"time"
)

// The Java issuers (Keycloak, Spring Authorization Server) take tens of
// seconds to start, so each is started once per test binary, by the first
// test that needs it, shared by every test after it, and stopped when all
// have run (TestMain).

var live struct {
	mu    sync.Mutex
	stops []func()
}

// atExit registers f to run when every test has run.
func atExit(f func()) {
	live.mu.Lock()
	defer live.mu.Unlock()
	live.stops = append(live.stops, f)
}

func stopLiveIssuers() {
	live.mu.Lock()
	defer live.mu.Unlock()
	for i := len(live.stops) - 1; i >= 0; i-- {
		live.stops[i]()
	}
	live.stops = nil
}

// shared starts one value per test binary with start, the first time a
// test asks for it, and hands the same value (or the same error) to every
// test after.
type shared[T any] struct {
	once  sync.Once
	val   T
	err   error
	took  time.Duration
	start func() (T, error)
}

func (s *shared[T]) get(t *testing.T) T {
	t.Helper()
	s.once.Do(func() {
		began := time.Now()
		s.val, s.err = s.start()
		s.took = time.Since(began)
		if s.err == nil {
			t.Logf("started and set up in %v", s.took.Round(100*time.Millisecond))
		}
	})
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.val
}
