// Package tokencache is a bounded table of tokens already judged, read
// without locks.
//
// Client-credentials callers send the same token for its whole lifetime,
// often thousands of times a minute, so a resource server that remembers
// its verdict skips the signature check (or the introspection call) on all
// but the first. The table is built for that hit path: a lookup is a hash
// of the token's last bytes, at most a few atomic loads and one string
// comparison, and allocates nothing. Writers (one per first sighting)
// replace whole entries with compare-and-swap.
//
// A token is found only by an exact comparison of the whole token, never
// by its hash alone, so no token can ever be mistaken for another. The
// table holds at most its number of slots, and stops admitting entries
// once their estimated size reaches its byte budget.
package tokencache

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
)

// ways is how many neighbouring slots a token may occupy: a small
// associativity keeps lookups short and evictions sensible.
const ways = 4

// tailBytes is how much of the token the slot hash reads: the end of a
// signed token is its signature, as good as random, and hashing it rather
// than the whole token keeps a lookup near 50 ns whatever the token's size.
const tailBytes = 64

// Entry is one judged token.
type Entry[V any] struct {
	Token string // the whole token, owned by the entry
	Value V
	Until int64  // Unix nanoseconds after which the entry is of no use
	Tag   string // what Purge may select entries by (the key ID)
	Size  int64  // estimated bytes held
}

// Table maps tokens to entries.
type Table[V any] struct {
	slots    []atomic.Pointer[Entry[V]]
	mask     uint64
	maxBytes int64
	bytes    atomic.Int64
	count    atomic.Int64
	seed     maphash.Seed
}

// New returns a table of at least maxEntries slots (rounded up to a power
// of two) holding at most about maxBytes.
func New[V any](maxEntries int, maxBytes int64) *Table[V] {
	n := uint64(1) << bits.Len(uint(max(maxEntries, ways)-1))
	return &Table[V]{slots: make([]atomic.Pointer[Entry[V]], n), mask: n - 1, maxBytes: maxBytes, seed: maphash.MakeSeed()}
}

func (t *Table[V]) home(token string) uint64 {
	if len(token) > tailBytes {
		token = token[len(token)-tailBytes:]
	}
	return maphash.String(t.seed, token)
}

// Get returns the entry for token, if any, whatever its Until: the caller
// judges freshness on its own clock.
func (t *Table[V]) Get(token string) (*Entry[V], bool) {
	h := t.home(token)
	for i := range uint64(ways) {
		if e := t.slots[(h+i)&t.mask].Load(); e != nil && e.Token == token {
			return e, true
		}
	}
	return nil, false
}

// Put adds e, replacing an entry for the same token wherever among its
// neighbours it is, else filling the first empty or outdated slot, else
// evicting the neighbour that expires first. It does nothing when e would
// take the table past its byte budget.
func (t *Table[V]) Put(e *Entry[V], now int64) {
	h := t.home(e.Token)
	free := func(x *Entry[V]) bool { return x == nil || x.Until <= now }
	var victim *atomic.Pointer[Entry[V]]
	var old *Entry[V]
	for i := range uint64(ways) {
		slot := &t.slots[(h+i)&t.mask]
		cur := slot.Load()
		if cur != nil && cur.Token == e.Token {
			victim, old = slot, cur // never two entries for one token
			break
		}
		if victim == nil || (!free(old) && (free(cur) || cur.Until < old.Until)) {
			victim, old = slot, cur
		}
	}
	grow := e.Size
	if old != nil {
		grow -= old.Size
	}
	if t.bytes.Add(grow) > t.maxBytes && grow > 0 {
		t.bytes.Add(-grow)
		return
	}
	if !victim.CompareAndSwap(old, e) {
		t.bytes.Add(-grow) // another writer got there first; its entry stands
		return
	}
	if old == nil {
		t.count.Add(1)
	}
}

// Remove takes e out of the table, if it is still there: a writer that
// learns after Put that its entry must not stand (what it says was
// overtaken while it was being judged) withdraws it this way, without
// touching an entry put since for the same token.
func (t *Table[V]) Remove(e *Entry[V]) {
	h := t.home(e.Token)
	for i := range uint64(ways) {
		slot := &t.slots[(h+i)&t.mask]
		if slot.Load() == e && slot.CompareAndSwap(e, nil) {
			t.bytes.Add(-e.Size)
			t.count.Add(-1)
			return
		}
	}
}

// Purge removes the entries drop selects.
func (t *Table[V]) Purge(drop func(*Entry[V]) bool) {
	for i := range t.slots {
		if e := t.slots[i].Load(); e != nil && drop(e) && t.slots[i].CompareAndSwap(e, nil) {
			t.bytes.Add(-e.Size)
			t.count.Add(-1)
		}
	}
}

// Len is the number of entries held.
func (t *Table[V]) Len() int { return int(t.count.Load()) }

// Bytes is the estimated size of the entries held.
func (t *Table[V]) Bytes() int64 { return t.bytes.Load() }
