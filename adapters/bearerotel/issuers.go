package bearerotel

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// issuers maps the issuer an event names to the configured one. Key events
// and refusals name the configured issuer, but an acceptance or a denial
// names the token's iss, which under an issuer template is its tenant's
// own issuer: as many values as there are tenants. Templates are learnt
// from the events that name them (every key fetch of a template's
// verifier does), and an issuer a template matches is reported as the
// template.
type issuers struct {
	mu        sync.Mutex // serialises learning; reading takes no lock
	templates atomic.Pointer[[]template]
}

type template struct{ name, prefix, suffix string }

// configured returns the configured issuer for one an event names.
func (is *issuers) configured(issuer string) string {
	if strings.Contains(issuer, bearer.TenantPlaceholder) {
		is.learn(issuer)
		return issuer
	}
	if ts := is.templates.Load(); ts != nil {
		for _, t := range *ts {
			if t.matches(issuer) {
				return t.name
			}
		}
	}
	return issuer
}

// learn remembers the templates in issuer: one, or several for the
// refusals of a MultiVerifier, which name all its issuers.
func (is *issuers) learn(issuer string) {
	for _, name := range strings.Fields(issuer) {
		prefix, suffix, ok := strings.Cut(name, bearer.TenantPlaceholder)
		if !ok || is.known(name) {
			continue
		}
		is.mu.Lock()
		if !is.known(name) {
			var next []template
			if ts := is.templates.Load(); ts != nil {
				next = append(next, *ts...)
			}
			next = append(next, template{name, prefix, suffix})
			is.templates.Store(&next)
		}
		is.mu.Unlock()
	}
}

func (is *issuers) known(name string) bool {
	if ts := is.templates.Load(); ts != nil {
		for _, t := range *ts {
			if t.name == name {
				return true
			}
		}
	}
	return false
}

// matches reports whether iss is the template with a tenant put in.
func (t template) matches(iss string) bool {
	if len(iss) <= len(t.prefix)+len(t.suffix) || !strings.HasPrefix(iss, t.prefix) || !strings.HasSuffix(iss, t.suffix) {
		return false
	}
	return !strings.Contains(iss[len(t.prefix):len(iss)-len(t.suffix)], "/")
}

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
