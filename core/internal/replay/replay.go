// Package replay is the in-process memory of one-time identifiers: the
// jti of every DPoP proof (RFC 9449 §11.1) a Verifier accepted, kept for as
// long as a proof could still be accepted, so that its second use is
// recognised.
//
// The store is bounded twice. It holds at most Capacity identifiers, and
// at most PerKey of any one key (the thumbprint of the key that signed the
// proofs), so that the holder of one valid token and its key cannot take
// the whole store. When a bound is reached it refuses the new identifier
// rather than forget a live one: forgetting would let that proof's replay
// through. Its caller records an identifier only once the proof's token
// verified and is bound to the proof's key, so that a caller with no valid
// token can fill nothing.
//
// Identifiers are kept in generations, one per slice of time, an eighth of
// their lifetime each. An identifier is remembered in the generation of
// the moment it arrived, and a generation is dropped whole, in one step,
// once every identifier in it has expired: an identifier is remembered for
// its lifetime and at most one slice more. No request ever walks the
// entries: each costs one lookup per generation (nine), whether the store
// is empty or full, and the memory of a dropped generation goes back to
// the garbage collector, outside the lock.
package replay

import (
	"errors"
	"hash/maphash"
	"sync"
	"time"
)

// Refusals of Remember, when a bound is reached.
var (
	ErrFull    = errors.New("the in-process DPoP replay store is full")
	ErrKeyFull = errors.New("the key holds as many recent DPoP proofs as one key may")
)

// slices is how many generations one lifetime spans; a store keeps one
// more, the one being filled.
const slices = 8

// Store remembers identifiers, each under the key that made it.
type Store struct {
	mu       sync.Mutex
	seed     maphash.Seed
	slot     int64 // nanoseconds one generation covers
	gens     [slices + 1]generation
	newest   int64 // number of the generation being filled
	started  bool  // newest was set
	size     int   // identifiers held in all generations
	capacity int
	perKey   int
}

// generation holds the identifiers that arrived in one slice of time.
// Identifiers and keys are held as 64-bit hashes under a seed of the
// process's own, which no caller can predict: two identifiers that share
// a hash make the second one look replayed, and a caller would need some
// 2^64 tries to make that happen to anyone.
type generation struct {
	number int64
	ids    map[uint64]struct{}
	keys   map[uint64]int32 // how many of ids each key made
}

// New is a store of at most capacity identifiers, at most perKey of one
// key, each remembered for ttl (and at most an eighth of ttl more).
func New(capacity, perKey int, ttl time.Duration) *Store {
	return &Store{
		seed:     maphash.MakeSeed(),
		slot:     max(int64(ttl+slices-1)/slices, 1),
		capacity: max(capacity, 1),
		perKey:   max(perKey, 1),
	}
}

// Remember records id, made by key, at now. fresh is false when id was
// recorded before for key and not yet forgotten: a replay. When a bound
// stops it from recording id, err is ErrKeyFull or ErrFull, and retry is
// how long until room is made, as an estimate for a Retry-After.
func (s *Store) Remember(now time.Time, key, id string) (fresh bool, retry time.Duration, err error) {
	k := maphash.String(s.seed, key)
	var h maphash.Hash
	h.SetSeed(s.seed)
	h.WriteString(key)
	h.WriteByte(0)
	h.WriteString(id)
	sum := h.Sum64()
	at := now.UnixNano()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance(floorDiv(at, s.slot))
	held := 0
	for i := range s.gens {
		g := &s.gens[i]
		if _, seen := g.ids[sum]; seen {
			return false, 0, nil
		}
		held += int(g.keys[k])
	}
	switch {
	case held >= s.perKey:
		return false, s.untilDropped(at, func(g *generation) bool { return g.keys[k] > 0 }), ErrKeyFull
	case s.size >= s.capacity:
		return false, s.untilDropped(at, func(g *generation) bool { return len(g.ids) > 0 }), ErrFull
	}
	g := &s.gens[s.ring(s.newest)]
	if g.ids == nil {
		// Sized like the generation before it, to spare most of the
		// growing of a busy store's maps.
		prev := len(s.gens[s.ring(s.newest-1)].ids)
		g.ids, g.keys = make(map[uint64]struct{}, prev), map[uint64]int32{}
	}
	g.ids[sum] = struct{}{}
	g.keys[k]++
	s.size++
	return true, 0, nil
}

// advance makes generation n the one being filled, dropping those that
// fall out of the ring: at most len(gens) of them, whatever the time
// passed. A clock that went back leaves the newest generation in place;
// identifiers are then remembered for longer, never for less.
func (s *Store) advance(n int64) {
	from := n - int64(len(s.gens)) + 1
	switch {
	case !s.started:
		s.started = true
	case n <= s.newest:
		return
	default:
		from = max(from, s.newest+1)
	}
	for num := from; num <= n; num++ {
		g := &s.gens[s.ring(num)]
		s.size -= len(g.ids)
		*g = generation{number: num}
	}
	s.newest = n
}

// untilDropped is how long, from at, until the oldest generation that
// holds what full tells is dropped.
func (s *Store) untilDropped(at int64, holds func(*generation) bool) time.Duration {
	oldest := s.newest
	for i := range s.gens {
		if g := &s.gens[i]; g.ids != nil && g.number < oldest && holds(g) {
			oldest = g.number
		}
	}
	return time.Duration(max((oldest+int64(len(s.gens)))*s.slot-at, 1))
}

// Len is how many identifiers the store holds.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.size
}

func (s *Store) ring(n int64) int {
	m := int64(len(s.gens))
	return int((n%m + m) % m)
}

// floorDiv is a/b rounded down, for times before 1970 too.
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}
