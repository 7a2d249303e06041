package bearer

import "time"

// Status is what a Verifier holds of its issuer's keys, for readiness
// probes and dashboards.
type Status struct {
	// Ready reports whether tokens can be verified now: usable keys are
	// held (possibly stale, within Config.MaxStale).
	Ready bool
	// Keys is the number of usable keys held.
	Keys int
	// FetchedAt is the last successful fetch; zero if there was none.
	FetchedAt time.Time
	// RefreshAt is when the keys are next refreshed.
	RefreshAt time.Time
	// Stale reports keys past their refresh time because refreshes fail.
	Stale bool
	// Failures counts consecutive failed fetches; LastError is the last.
	Failures  int
	LastError error
	// CachedTokens and CacheBytes are what the cache of judged tokens
	// holds (see CacheConfig).
	CachedTokens int
	CacheBytes   int64
}

// Status reports the state of the issuer's keys without fetching.
func (v *Verifier) Status() Status {
	s := v.keys
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	set := s.keys.Load()
	st := Status{
		Keys:      set.len(),
		FetchedAt: s.fetchedAt,
		Failures:  s.failures,
		LastError: s.lastErr,
	}
	if v.cache != nil {
		st.CachedTokens, st.CacheBytes = v.cache.Len(), v.cache.Bytes()
	}
	if set != nil {
		st.RefreshAt = time.Unix(0, s.refreshAt.Load())
		st.Ready = set.len() > 0 && now.Before(time.Unix(0, s.expireAt.Load()))
		st.Stale = s.failures > 0 && !now.Before(st.RefreshAt)
	}
	return st
}
