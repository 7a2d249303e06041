package bearer

import (
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"
)

// maxCachedHeaders bounds the header cache. An issuer signs with a handful
// of keys, so its tokens share a handful of headers.
const maxCachedHeaders = 32

// headerCache remembers parsed JOSE headers by their encoded segment, so
// that most requests skip decoding and reading the header. Readers never
// lock: the map is replaced, never changed, by the rare writer.
//
// Only headers of tokens that verified are offered, so forged tokens cannot
// fill it; and a header is admitted on its second sighting in a row, so an
// issuer that puts something unique in every header (or a benchmark that
// defeats caches) costs a hash per token, not a map copy. When full, the
// least recently used header goes; headers whose key left the issuer's set
// go when the set changes (retainKids).
type headerCache struct {
	m         atomic.Pointer[map[string]*cachedHeader]
	gen       atomic.Int64  // bumped on every change; entries note the gen of their last use
	candidate atomic.Uint64 // hash of the last header offered and not admitted
	mu        sync.Mutex    // serialises writers
}

type cachedHeader struct {
	header
	used atomic.Int64
}

var headerSeed = maphash.MakeSeed()

// get returns the header cached for segment.
func (c *headerCache) get(segment string) (*header, bool) {
	m := c.m.Load()
	if m == nil {
		return nil, false
	}
	e, ok := (*m)[segment]
	if !ok {
		return nil, false
	}
	// A store only when the cache changed since this entry's last use:
	// hits on a stable cache write nothing shared.
	if g := c.gen.Load(); e.used.Load() != g {
		e.used.Store(g)
	}
	return &e.header, true
}

// offer proposes h, read from segment, for caching. The segment is cloned
// only when admitted: an adapter may hand over a token that aliases a
// request buffer its server reuses (fasthttp does), and the cache outlives
// it.
func (c *headerCache) offer(segment string, h header) {
	sum := maphash.String(headerSeed, segment)
	if c.candidate.Swap(sum) != sum {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.entries()
	if _, ok := old[segment]; ok {
		return
	}
	next := make(map[string]*cachedHeader, len(old)+1)
	var oldest string
	for k, e := range old {
		next[k] = e
		if oldest == "" || e.used.Load() < old[oldest].used.Load() {
			oldest = k
		}
	}
	if len(next) >= maxCachedHeaders {
		delete(next, oldest)
	}
	e := &cachedHeader{header: h}
	e.used.Store(c.gen.Add(1))
	next[strings.Clone(segment)] = e
	c.m.Store(&next)
}

// retainKids drops the headers naming a kid that keep refuses, once the
// issuer's key set has changed.
func (c *headerCache) retainKids(keep func(kid string) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.entries()
	next := make(map[string]*cachedHeader, len(old))
	for k, e := range old {
		if e.Kid == "" || keep(e.Kid) {
			next[k] = e
		}
	}
	if len(next) != len(old) {
		c.gen.Add(1)
		c.m.Store(&next)
	}
}

func (c *headerCache) entries() map[string]*cachedHeader {
	if m := c.m.Load(); m != nil {
		return *m
	}
	return nil
}
