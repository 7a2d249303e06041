package bearerotel

import (
	"maps"
	"sync"
	"time"
)

// ages keeps, per configured issuer, when its key set was last fetched
// successfully. It is fed by events rather than by Verifier.Status, so
// that every verifier observed is covered with nothing to register, a
// MultiVerifier's issuers included.
type ages struct {
	now func() time.Time
	mu  sync.Mutex
	at  map[string]time.Time
}

func (a *ages) fetched(issuer string) {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.at == nil {
		a.at = map[string]time.Time{}
	}
	a.at[issuer] = now
}

// each calls f with every issuer's age, outside the lock.
func (a *ages) each(f func(issuer string, age time.Duration)) {
	now := a.now()
	a.mu.Lock()
	snapshot := maps.Clone(a.at)
	a.mu.Unlock()
	for iss, at := range snapshot {
		f(iss, max(now.Sub(at), 0))
	}
}
