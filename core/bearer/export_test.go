package bearer

import "time"

// SummariseEvery makes v (a *Verifier or *MultiVerifier) summarise its
// refusals d after the first instead of a minute after, for tests that
// cannot wait a minute. Call it before v is used.
func SummariseEvery(v any, d time.Duration) {
	switch v := v.(type) {
	case *Verifier:
		v.tel.summariseEvery(d)
	case *MultiVerifier:
		v.tel.summariseEvery(d)
	}
}

// CachedHeaders lists the encoded headers v's header cache holds.
func CachedHeaders(v *Verifier) []string {
	var out []string
	for segment := range v.headers.entries() {
		out = append(out, segment)
	}
	return out
}
