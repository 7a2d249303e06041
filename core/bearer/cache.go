package bearer

import (
	"context"
	"errors"
	"math"
	"strings"

	"github.com/bouncer-go/bouncer/core/internal/coarseclock"
	"github.com/bouncer-go/bouncer/core/internal/tokencache"
)

// CacheConfig bounds the cache of tokens already judged. A client sends
// the same token for its whole lifetime, so a Verifier remembers each
// token it accepted (and each one its issuer's introspection called
// inactive, briefly) and answers repeats from memory: no parsing, no
// signature check, no call to the issuer. A remembered token is still
// refused once it expires (exp plus the leeway, read on a clock that may
// lag by a few milliseconds so that a hit costs no system call); one
// accepted by
// introspection is asked about again after Introspection.MaxAge; and every
// token verified with a key is forgotten when that key leaves the issuer's
// set. Validators run on every request all the same.
//
// Entries are found by comparing the whole token, so one token is never
// taken for another. The zero value means the defaults.
type CacheConfig struct {
	// MaxEntries bounds how many tokens are remembered. Zero means 4096.
	MaxEntries int
	// MaxBytes bounds their estimated size. Zero means 8 MiB.
	MaxBytes int64
	// Disable turns the cache off: every request is judged afresh.
	Disable bool
}

const (
	defaultCacheEntries = 4096
	defaultCacheBytes   = 8 << 20
	maxCacheEntries     = 1 << 22
)

// verdict is what the cache keeps of a judged token.
type verdict struct {
	claims *Claims    // nil: the issuer said the token is not active
	key    *publicKey // the key that verified it; nil for introspection
}

type tokenCache = tokencache.Table[verdict]

// newTokenCache builds the cache cfg bounds, or nil when it is disabled.
func newTokenCache(cfg CacheConfig) (*tokenCache, error) {
	if cfg.Disable {
		return nil, nil
	}
	entries, err1 := count("Cache.MaxEntries", cfg.MaxEntries, defaultCacheEntries, maxCacheEntries)
	bytes, err2 := count("Cache.MaxBytes", int(cfg.MaxBytes), defaultCacheBytes, math.MaxInt)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	return tokencache.New[verdict](entries, int64(bytes)), nil
}

// errCachedInactive refuses a token that introspection recently called
// inactive, without asking again.
var errCachedInactive = tokenError(ErrInactive, "the issuer says the token is not active")

// reuse answers from a cache entry, if it is still of use: a token
// remembered as accepted, until its exp (or the introspection maximum age),
// or as inactive, until the short time that is remembered.
//
// A hit also notices, at the cost of one atomic load, that the issuer's
// key set is due for a refresh, and starts it: with every request answered
// here, nothing else would, and a key the issuer withdrew would go on
// vouching for its cached tokens. Past MaxStale a verdict made with a key
// is not reused: the token is judged afresh, which waits for the keys.
func (v *Verifier) reuse(ctx context.Context, e *tokencache.Entry[verdict]) (*Claims, *Error, bool) {
	now := v.nowNanos()
	if now >= e.Until {
		return nil, nil, false
	}
	if now >= v.keys.dueAt.Load() && e.Value.key != nil && !v.keys.heldUsable() {
		return nil, nil, false
	}
	if v.revoker != nil {
		if e := v.revoker.refusal.Load(); e != nil {
			return nil, e, true // a revocation source that fails closed is down
		}
	}
	c := e.Value.claims
	if c == nil {
		return nil, errCachedInactive, true
	}
	if e := v.validate(ctx, c); e != nil {
		return nil, e, true
	}
	return c, nil, true
}

// remember caches a token's verdict until until (Unix nanoseconds),
// unless a revocation came in since revGen was read, before the token was
// looked up among the revocations (see rememberVerified).
func (v *Verifier) remember(token string, d verdict, tag string, until int64, revGen uint64) {
	if v.cache == nil {
		return
	}
	e := cacheEntry(token, d, tag, until)
	v.cache.Put(e, v.now().UnixNano())
	if v.revocationMoved(revGen) {
		v.cache.Remove(e)
	}
}

// rememberVerified caches a token verified with a key, unless the key set
// took a key away since gen was read, before the key was looked up, or a
// revocation came in since revGen was read, before the token was looked
// up among the revocations. The entry is put first and checked after: a
// key set (a Revoker) stores itself (its rules), bumps its generation,
// then purges the cache, so either the purge finds the entry or the check
// sees the new generation and takes the entry out again.
func (v *Verifier) rememberVerified(token string, d verdict, until int64, gen, revGen uint64) {
	if v.cache == nil {
		return
	}
	e := cacheEntry(token, d, d.key.id, until)
	v.cache.Put(e, v.now().UnixNano())
	if v.keys.gen.Load() != gen || v.revocationMoved(revGen) {
		v.cache.Remove(e)
	}
}

func cacheEntry(token string, d verdict, tag string, until int64) *tokencache.Entry[verdict] {
	size := int64(len(token)) + 512
	if c := d.claims; c != nil {
		size += int64(len(c.raw)) + 32*int64(len(c.Audience)+len(c.Scopes)+len(c.Roles)+len(c.ClientRoles))
	}
	// Cloned: the token may alias a request buffer its server reuses.
	return &tokencache.Entry[verdict]{Token: strings.Clone(token), Value: d, Tag: tag, Until: until, Size: size}
}

// nowNanos is the clock of the cache's hit path: the configured clock, or
// else the coarse one, which costs an atomic load where time.Now may cost
// more than everything else a hit does.
func (v *Verifier) nowNanos() int64 {
	if v.customClock {
		return v.now().UnixNano()
	}
	return coarseclock.Now()
}

// forgetKeys drops the tokens v verified with keys that set, its issuer's
// new key set, no longer holds. The cache may be shared with the other
// issuers of a MultiVerifier, whose tokens stay.
func (v *Verifier) forgetKeys(set *keySet) {
	if v.cache == nil {
		return
	}
	v.cache.Purge(func(e *tokencache.Entry[verdict]) bool {
		c := e.Value.claims
		return c != nil && c.by == v && e.Value.key != nil && !set.holds(e.Tag, e.Value.key)
	})
}
