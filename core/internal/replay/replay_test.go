package replay

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const ttl = 2 * time.Minute

var t0 = time.Unix(1_800_000_000, 0)

func mustFresh(t *testing.T, s *Store, now time.Time, key, id string) {
	t.Helper()
	fresh, _, err := s.Remember(now, key, id)
	if !fresh || err != nil {
		t.Fatalf("%s/%s at %v: fresh %v, %v", key, id, now.Sub(t0), fresh, err)
	}
}

func mustReplay(t *testing.T, s *Store, now time.Time, key, id string) {
	t.Helper()
	fresh, _, err := s.Remember(now, key, id)
	if fresh || err != nil {
		t.Fatalf("%s/%s at %v: fresh %v, %v; want a replay", key, id, now.Sub(t0), fresh, err)
	}
}

// An identifier is remembered for at least its lifetime, wherever in a
// generation it arrived, and forgotten at most an eighth of it later.
func TestRememberedForItsLifetime(t *testing.T) {
	for _, offset := range []time.Duration{0, time.Nanosecond, ttl / slices / 2, ttl/slices - time.Nanosecond} {
		s := New(100, 100, ttl)
		at := t0.Add(offset)
		mustFresh(t, s, at, "k", "a")
		mustReplay(t, s, at, "k", "a")
		mustReplay(t, s, at.Add(ttl-time.Nanosecond), "k", "a")
		mustFresh(t, s, at.Add(ttl+ttl/slices), "k", "a")
	}
}

// An identifier is one key's: another key may use the same one.
func TestIdentifiersAreKeys(t *testing.T) {
	s := New(100, 100, ttl)
	mustFresh(t, s, t0, "k1", "a")
	mustFresh(t, s, t0, "k2", "a")
	mustFresh(t, s, t0, "k1\x00a", "")
	mustReplay(t, s, t0, "k2", "a")
}

// One key holds at most perKey identifiers; others still get room, and
// the key gets room again when its identifiers are forgotten, no later
// than the retry it was told.
func TestKeyShare(t *testing.T) {
	s := New(100, 4, ttl)
	for i := range 4 {
		mustFresh(t, s, t0.Add(time.Duration(i)*time.Second), "greedy", strconv.Itoa(i))
	}
	now := t0.Add(30 * time.Second)
	fresh, retry, err := s.Remember(now, "greedy", "x")
	if fresh || !errors.Is(err, ErrKeyFull) || retry <= 0 || retry > ttl+ttl/slices {
		t.Fatalf("fresh %v, retry %v, %v", fresh, retry, err)
	}
	// A replay is still a replay, not a refusal for room.
	mustReplay(t, s, now, "greedy", "0")
	mustFresh(t, s, now, "other", "x")
	mustFresh(t, s, now.Add(retry), "greedy", "x")
}

// A full store refuses new identifiers and tells replays apart; room
// comes back no later than the retry it told.
func TestFull(t *testing.T) {
	s := New(8, 8, ttl)
	for i := range 8 {
		mustFresh(t, s, t0.Add(time.Duration(i)*10*time.Second), "k"+strconv.Itoa(i), "a")
	}
	now := t0.Add(80 * time.Second)
	fresh, retry, err := s.Remember(now, "late", "a")
	if fresh || !errors.Is(err, ErrFull) || retry <= 0 || retry > ttl+ttl/slices {
		t.Fatalf("fresh %v, retry %v, %v", fresh, retry, err)
	}
	mustReplay(t, s, now, "k7", "a")
	if fresh, _, _ := s.Remember(now.Add(retry-time.Second), "late", "a"); fresh {
		t.Fatal("room came before the retry told")
	}
	mustFresh(t, s, now.Add(retry), "late", "a")
	if s.Len() > 8 {
		t.Fatalf("holds %d", s.Len())
	}
}

// Time running backwards never makes the store forget; a long jump forward
// forgets everything at once.
func TestClockJumps(t *testing.T) {
	s := New(100, 100, ttl)
	mustFresh(t, s, t0, "k", "a")
	mustFresh(t, s, t0.Add(-time.Hour), "k", "b")
	mustReplay(t, s, t0.Add(-time.Hour), "k", "a")
	mustReplay(t, s, t0.Add(ttl-time.Nanosecond), "k", "b")
	mustFresh(t, s, t0.Add(100*time.Hour), "k", "c")
	if s.Len() != 1 {
		t.Fatalf("holds %d after a jump", s.Len())
	}
	mustFresh(t, s, t0.Add(100*time.Hour), "k", "a")
}

// A store that has run for a while holds what arrived within its
// lifetime and one slice more: never more than the bound.
func TestSizeFollowsTime(t *testing.T) {
	s := New(1_000_000, 1_000_000, ttl)
	step := time.Second
	for i := range 1000 {
		mustFresh(t, s, t0.Add(time.Duration(i)*step), "k", strconv.Itoa(i))
		if max := int((ttl+ttl/slices)/step) + 1; s.Len() > max {
			t.Fatalf("after %d, holds %d; at most %d arrived within the lifetime and a slice", i, s.Len(), max)
		}
	}
	if s.Len() < int(ttl/step) {
		t.Fatalf("holds %d, fewer than arrived within the lifetime", s.Len())
	}
}

// Of any number of callers presenting one identifier at once, one is told
// it is fresh.
func TestConcurrent(t *testing.T) {
	s := New(1000, 1000, ttl)
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range 50 {
				ok, _, err := s.Remember(t0, "k", strconv.Itoa(i))
				if err != nil {
					t.Error(err)
				}
				if ok {
					fresh.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if fresh.Load() != 50 {
		t.Fatalf("%d fresh of 50 identifiers", fresh.Load())
	}
}

func TestDegenerateBounds(t *testing.T) {
	s := New(0, 0, 0)
	mustFresh(t, s, t0, "k", "a")
	if _, _, err := s.Remember(t0, "k", "b"); !errors.Is(err, ErrKeyFull) {
		t.Fatal(err)
	}
	mustFresh(t, New(1, 1, time.Nanosecond), time.Unix(-10, 0), "k", "a")
}

// BenchmarkRemember is the cost of one Remember: a fresh identifier in a
// store in steady use, and a refusal by a full store of 1,024 and of
// 1,048,576 identifiers. The two refusals cost the same: a full store
// costs no request a sweep.
func BenchmarkRemember(b *testing.B) {
	b.Run("fresh", func(b *testing.B) {
		s := New(1<<20, 1<<20, ttl)
		now, i := t0, 0
		for b.Loop() {
			i++
			now = now.Add(100 * time.Microsecond) // 10,000 a second
			if fresh, _, err := s.Remember(now, "k", strconv.Itoa(i)); !fresh || err != nil {
				b.Fatal(fresh, err)
			}
		}
	})
	for _, size := range []int{1 << 10, 1 << 20} {
		b.Run("full/"+strconv.Itoa(size), func(b *testing.B) {
			s := New(size, size, ttl)
			for i := range size {
				mustFreshB(b, s, "k", strconv.Itoa(i))
			}
			ids := make([]string, 1024)
			for i := range ids {
				ids[i] = "late" + strconv.Itoa(i)
			}
			i := 0
			for b.Loop() {
				i++
				if _, _, err := s.Remember(t0, "other", ids[i%len(ids)]); !errors.Is(err, ErrFull) {
					b.Fatal(err)
				}
			}
		})
	}
}

func mustFreshB(b *testing.B, s *Store, key, id string) {
	if fresh, _, err := s.Remember(t0, key, id); !fresh || err != nil {
		b.Fatal(fresh, err)
	}
}
