package bearer

import (
	"strings"
	"sync/atomic"
)

// maxCachedHeaders bounds the header cache. An issuer signs with a handful
// of keys, so its tokens share a handful of headers.
const maxCachedHeaders = 32

// headerCache remembers parsed JOSE headers by their encoded segment.
// Every token from one issuer key carries the same header, so most requests
// skip decoding it. Only headers of tokens that verified are added, so
// forged tokens cannot fill it, and readers never lock.
type headerCache struct {
	m atomic.Pointer[map[string]*header]
}

func (c *headerCache) get(segment string) (*header, bool) {
	m := c.m.Load()
	if m == nil {
		return nil, false
	}
	h, ok := (*m)[segment]
	return h, ok
}

// add remembers h for segment. The segment is cloned only when it is
// added: an adapter may hand over a token that aliases a request buffer its
// server reuses (fasthttp does), and the cache outlives it.
func (c *headerCache) add(segment string, h header) {
	if _, ok := c.get(segment); ok {
		return
	}
	segment = strings.Clone(segment)
	for {
		old := c.m.Load()
		var n int
		if old != nil {
			if _, ok := (*old)[segment]; ok {
				return
			}
			n = len(*old)
		}
		if n >= maxCachedHeaders {
			return
		}
		next := make(map[string]*header, n+1)
		if old != nil {
			for k, v := range *old {
				next[k] = v
			}
		}
		next[segment] = &h
		if c.m.CompareAndSwap(old, &next) {
			return
		}
	}
}
