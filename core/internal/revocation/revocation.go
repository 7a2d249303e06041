// Package revocation is the set of rules by which tokens are taken back
// before they expire: one token by its jti, every token of a client or of
// a subject issued before a time, one token by its hash.
//
// The set is consulted when a token is judged afresh, never when it is
// answered from a verifier's token cache: the verifier purges its cache of
// what a new rule covers instead (see Gen), so that the cache's hit path
// costs the same whatever the set holds. A lookup is at most four map
// reads under a read lock, whatever the number of rules.
//
// Every rule carries its end, after which no token it covers can still be
// accepted, and is forgotten then: rules are swept out of the set at most
// once every SweepEvery, on the next change or lookup. The set holds at
// most its capacity of rules, and refuses more rather than forget one that
// still stands.
package revocation

import (
	"errors"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is what a rule selects tokens by.
type Kind uint8

const (
	TokenID       Kind = iota + 1 // one token of an issuer, by its jti
	ClientBefore                  // every token of a client issued before a time
	SubjectBefore                 // every token of a subject issued before a time
	Token                         // one token, by its hash
	kinds         = int(Token)
)

// Rule is one revocation. Times are Unix nanoseconds.
type Rule struct {
	Kind    Kind
	Issuer  string // "" for Token
	Value   string // the jti, client id, subject, or the token's hash
	Before  int64  // ClientBefore, SubjectBefore: tokens issued before it
	At      int64  // when it was made
	Expires int64  // when no token it covers can still be accepted
	Source  string // where it came from, for reports
	Reason  string // why, for reports
}

// key finds a rule among those of its kind.
type key struct{ issuer, value string }

func (r *Rule) key() key { return key{r.Issuer, r.Value} }

// ErrFull refuses a rule beyond the set's capacity.
var ErrFull = errors.New("the revocation set holds as many rules as it may")

// SweepEvery is the least time between two sweeps of expired rules.
const SweepEvery = time.Minute

// Set holds rules. It is safe for concurrent use.
type Set struct {
	mu       sync.RWMutex
	byKind   [kinds]map[key]*Rule
	n        int
	capacity int
	sweepAt  atomic.Int64 // when expired rules are next swept out
	gen      atomic.Uint64
}

// New is a set of at most capacity rules.
func New(capacity int) *Set {
	s := &Set{capacity: max(capacity, 1)}
	for i := range s.byKind {
		s.byKind[i] = map[key]*Rule{}
	}
	return s
}

// Gen counts the changes that may cover tokens not covered before. A
// verifier reads it before it looks a token up, and after it cached its
// verdict: if it moved, a rule came in while the token was being judged,
// and the verdict must not stand (the cache purge that follows the change
// may have run before the verdict was cached).
func (s *Set) Gen() uint64 { return s.gen.Load() }

// Add stores rules, merging each with the rule of the same kind and key:
// the later Before and the later Expires stand. It returns the rules that
// now cover more than before (new, or merged into a stronger rule), and
// ErrFull if some did not fit; the others are stored all the same. Gen
// moves once, after every rule is stored.
func (s *Set) Add(rules []Rule, now int64) (changed []Rule, err error) {
	s.mu.Lock()
	s.sweepLocked(now)
	for _, r := range rules {
		if r.Kind < TokenID || r.Kind > Token || r.Expires <= now {
			continue
		}
		m := s.byKind[r.Kind-1]
		old := m[r.key()]
		switch {
		case old == nil:
			if s.n >= s.capacity {
				err = ErrFull
				continue
			}
			stored := r
			m[r.key()] = &stored
			s.n++
			changed = append(changed, stored)
		case r.Before > old.Before || r.Expires > old.Expires:
			merged := *old
			if r.Before > old.Before {
				merged.Before, merged.At, merged.Source, merged.Reason = r.Before, r.At, r.Source, r.Reason
			}
			merged.Expires = max(old.Expires, r.Expires)
			m[r.key()] = &merged // readers may hold old: replaced, never changed
			if r.Before > old.Before {
				changed = append(changed, merged)
			}
		}
	}
	s.mu.Unlock()
	if len(changed) > 0 {
		s.gen.Add(1) // after the rules are stored: see Gen
	}
	return changed, err
}

// TokenFacts is what a lookup knows of a token.
type TokenFacts struct {
	Issuer, ID, Client, Subject string
	IssuedAt                    int64 // Unix nanoseconds
	HasIssuedAt                 bool
	// Hash returns the token's hash, for rules of kind Token; it is
	// called only when the set holds such rules.
	Hash func() string
}

// Match returns the rule that covers t, if any. A token without iat is
// covered by every rule of its client or subject: when it was issued
// cannot be told.
func (s *Set) Match(t *TokenFacts, now int64) (Rule, bool) {
	s.mu.RLock()
	r, ok := s.matchLocked(t, now)
	s.mu.RUnlock()
	if now >= s.sweepAt.Load() && s.mu.TryLock() {
		s.sweepLocked(now)
		s.mu.Unlock()
	}
	return r, ok
}

func (s *Set) matchLocked(t *TokenFacts, now int64) (Rule, bool) {
	live := func(r *Rule) bool { return r != nil && now < r.Expires }
	before := func(r *Rule) bool { return live(r) && (!t.HasIssuedAt || t.IssuedAt < r.Before) }
	if t.ID != "" {
		if r := s.byKind[TokenID-1][key{t.Issuer, t.ID}]; live(r) {
			return *r, true
		}
	}
	if t.Client != "" {
		if r := s.byKind[ClientBefore-1][key{t.Issuer, t.Client}]; before(r) {
			return *r, true
		}
	}
	if t.Subject != "" {
		if r := s.byKind[SubjectBefore-1][key{t.Issuer, t.Subject}]; before(r) {
			return *r, true
		}
	}
	if m := s.byKind[Token-1]; len(m) > 0 && t.Hash != nil {
		if r := m[key{"", t.Hash()}]; live(r) {
			return *r, true
		}
	}
	return Rule{}, false
}

// HasTokenRules reports whether the set holds rules of kind Token, whose
// lookup needs the token's hash.
func (s *Set) HasTokenRules() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.byKind[Token-1]) > 0
}

// sweepLocked drops expired rules, at most once every SweepEvery.
func (s *Set) sweepLocked(now int64) {
	if now < s.sweepAt.Load() {
		return
	}
	for _, m := range s.byKind {
		for k, r := range m {
			if now >= r.Expires {
				delete(m, k)
				s.n--
			}
		}
	}
	s.sweepAt.Store(now + int64(SweepEvery))
}

// Rules returns the rules in force at now, by kind, issuer and value.
func (s *Set) Rules(now int64) []Rule {
	s.mu.RLock()
	out := make([]Rule, 0, s.n)
	for _, m := range s.byKind {
		for _, r := range m {
			if now < r.Expires {
				out = append(out, *r)
			}
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Issuer != b.Issuer {
			return a.Issuer < b.Issuer
		}
		return a.Value < b.Value
	})
	return out
}

// Len is the number of rules held, expired ones not yet swept included.
func (s *Set) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.n
}
