package bearerotel_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bouncer-go/bouncer/adapters/bearerotel"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// Every kind of decision is counted, timed and looked up in the cache
// under the configured issuer, with the reason of each refusal.
func TestDecisions(t *testing.T) {
	obs, reader := newObserver(t)
	iss, down := newIssuer(t), newIssuer(t)
	down.SetDown(true)
	v, vDown := newVerifier(t, iss, obs), newVerifier(t, down, obs)
	tok := iss.MustMint(t, map[string]any{"scope": "country.read"})
	expired := iss.MustMint(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})

	mustVerify(t, v, tok)
	mustVerify(t, v, tok) // from the cache
	if _, err := v.Check(bg, request("Bearer "+tok), bearer.RequireScope("country.write")); bearer.Reason(err) != "insufficient_scope" {
		t.Fatalf("denial: %v", err)
	}
	if _, err := v.Verify(bg, expired); bearer.Reason(err) != "expired" {
		t.Fatalf("expired: %v", err)
	}
	if _, err := v.Check(bg, request("")); bearer.Reason(err) != "missing_token" {
		t.Fatalf("no token: %v", err)
	}
	if _, err := vDown.Verify(bg, down.MustMint(t, nil)); bearer.Reason(err) != "issuer_unavailable" {
		t.Fatalf("issuer down: %v", err)
	}

	ms := collect(t, reader)
	up, dn := issuer(iss.URL()), issuer(down.URL())
	wantCounts(t, ms, "bouncer.requests", "{request}", map[string]int64{
		set(outcome("accepted"), up, cached(false)):                                  1,
		set(outcome("accepted"), up, cached(true)):                                   1,
		set(outcome("denied"), reason("insufficient_scope"), up, cached(true)):       1,
		set(outcome("refused"), reason("expired"), up, cached(false)):                1,
		set(outcome("refused"), reason("missing_token"), up, cached(false)):          1,
		set(outcome("unavailable"), reason("issuer_unavailable"), dn, cached(false)): 1,
	})
	wantCounts(t, ms, "bouncer.cache.lookups", "{lookup}", map[string]int64{
		set(result("hit"), up):  2,
		set(result("miss"), up): 2,
		set(result("miss"), dn): 1,
	})

	d := ms["bouncer.request.duration"]
	if d.Unit != "s" {
		t.Errorf("bouncer.request.duration: unit %q", d.Unit)
	}
	h, ok := d.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("bouncer.request.duration is a %T", d.Data)
	}
	want := map[string]uint64{
		set(outcome("accepted"), up, cached(false)):    1,
		set(outcome("accepted"), up, cached(true)):     1,
		set(outcome("denied"), up, cached(true)):       1,
		set(outcome("refused"), up, cached(false)):     2,
		set(outcome("unavailable"), dn, cached(false)): 1,
	}
	if len(h.DataPoints) != len(want) {
		t.Fatalf("bouncer.request.duration has %d points, want %d", len(h.DataPoints), len(want))
	}
	for _, p := range h.DataPoints {
		k := key(p.Attributes)
		if p.Count != want[k] {
			t.Errorf("bouncer.request.duration{%s}: %d recorded, want %d", k, p.Count, want[k])
		}
		if p.Sum <= 0 || p.Sum > 30 {
			t.Errorf("bouncer.request.duration{%s}: %v s in all", k, p.Sum)
		}
	}
	if b := h.DataPoints[0].Bounds; b[0] > 1e-5 || b[len(b)-1] < 10 {
		t.Errorf("buckets %v do not span microseconds to seconds", b)
	}
}

// Fetches are counted by result, and the key set's age grows from the
// last success.
func TestKeyFetches(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	obs, reader := newObserver(t, bearerotel.WithClock(clock))
	iss, down := newIssuer(t), newIssuer(t)
	down.SetDown(true)
	mustVerify(t, newVerifier(t, iss, obs), iss.MustMint(t, nil))
	_, _ = newVerifier(t, down, obs).Verify(bg, down.MustMint(t, nil))
	mu.Lock()
	now = now.Add(90 * time.Second)
	mu.Unlock()

	ms := collect(t, reader)
	got := counts(t, ms, "bouncer.jwks.fetches", "{fetch}")
	if n := got[set(result("succeeded"), issuer(iss.URL()))]; n != 1 {
		t.Errorf("%d successful fetches, want 1", n)
	}
	if n := got[set(result("failed"), issuer(down.URL()))]; n < 1 {
		t.Errorf("%d failed fetches, want 1 or more", n)
	}
	age := ms["bouncer.jwks.age"]
	g, ok := age.Data.(metricdata.Gauge[float64])
	if !ok || age.Unit != "s" {
		t.Fatalf("bouncer.jwks.age is a %T in %q", age.Data, age.Unit)
	}
	if len(g.DataPoints) != 1 {
		t.Fatalf("ages of %d issuers, want only the one fetched", len(g.DataPoints))
	}
	if p := g.DataPoints[0]; key(p.Attributes) != set(issuer(iss.URL())) || p.Value != 90 {
		t.Errorf("age{%s} = %v, want 90 for %s", key(p.Attributes), p.Value, iss.URL())
	}
}

// A fetch that succeeds after failed ones records how long they lasted.
func TestOutageDuration(t *testing.T) {
	obs, reader := newObserver(t)
	iss := newIssuer(t)
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	v := newVerifier(t, iss, obs, func(c *bearer.Config) { c.Now = clock })
	tok := iss.MustMint(t, nil)
	iss.SetDown(true)
	for range 2 {
		if _, err := v.Verify(bg, tok); bearer.Reason(err) != "issuer_unavailable" {
			t.Fatalf("issuer down: %v", err)
		}
		advance(30 * time.Second)
	}
	iss.SetDown(false)
	mustVerify(t, v, tok)

	d := collect(t, reader)["bouncer.jwks.outage.duration"]
	h, ok := d.Data.(metricdata.Histogram[float64])
	if !ok || d.Unit != "s" || len(h.DataPoints) != 1 {
		t.Fatalf("bouncer.jwks.outage.duration: %T in %q: %+v", d.Data, d.Unit, d.Data)
	}
	if p := h.DataPoints[0]; key(p.Attributes) != set(issuer(iss.URL())) || p.Count != 1 || p.Sum != 60 {
		t.Fatalf("outage{%s}: %d recorded, sum %v; want one of 60s", key(p.Attributes), p.Count, p.Sum)
	}
}

// Tokens of many tenants count under the issuer template, not under as
// many issuers.
func TestTenantsCountUnderTheTemplate(t *testing.T) {
	obs, reader := newObserver(t)
	iss := newIssuer(t, bearertest.WithTenants())
	v := newVerifier(t, iss, obs)
	for _, tid := range []string{"tenant-a", "tenant-b", "tenant-c"} {
		c := mustVerify(t, v, iss.MustMint(t, map[string]any{"tid": tid}))
		if c.Issuer != iss.TenantIssuer(tid) {
			t.Fatalf("claims name %s", c.Issuer)
		}
	}
	wantCounts(t, collect(t, reader), "bouncer.requests", "{request}", map[string]int64{
		set(outcome("accepted"), issuer(iss.URL()), cached(false)): 3,
	})
}

// A MultiVerifier's acceptances count under the issuer that vouched, its
// refusals under all its issuers.
func TestMultiVerifier(t *testing.T) {
	obs, reader := newObserver(t)
	plain, tenants := newIssuer(t), newIssuer(t, bearertest.WithTenants())
	cfg := func(iss *bearertest.Issuer) bearer.Config {
		return bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: quiet, Observer: obs}
	}
	m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{cfg(plain), cfg(tenants)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{plain.MustMint(t, nil), tenants.MustMint(t, map[string]any{"tid": "tenant-a"})} {
		if _, err := m.Verify(bg, tok); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Verify(bg, plain.MustMint(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})); bearer.Reason(err) != "expired" {
		t.Fatalf("expired: %v", err)
	}

	ms := collect(t, reader)
	wantCounts(t, ms, "bouncer.requests", "{request}", map[string]int64{
		set(outcome("accepted"), issuer(plain.URL()), cached(false)):                                     1,
		set(outcome("accepted"), issuer(tenants.URL()), cached(false)):                                   1,
		set(outcome("refused"), reason("expired"), issuer(plain.URL()+" "+tenants.URL()), cached(false)): 1,
	})
	wantCounts(t, ms, "bouncer.jwks.fetches", "{fetch}", map[string]int64{
		set(result("succeeded"), issuer(plain.URL())):   1,
		set(result("succeeded"), issuer(tenants.URL())): 1,
	})
}

// failingCache is a shared cache that is always down.
type failingCache struct{}

func (failingCache) Get(context.Context, string) ([]byte, bool, error) {
	return nil, false, errors.New("connection refused")
}

func (failingCache) Set(context.Context, string, []byte, time.Duration) error {
	return errors.New("connection refused")
}

func TestIntrospectionFailures(t *testing.T) {
	obs, reader := newObserver(t)
	iss := newIssuer(t, bearertest.WithClient("country-api", "s3cret"))
	v := newVerifier(t, iss, obs, func(c *bearer.Config) {
		c.Introspection = &bearer.Introspection{URL: iss.IntrospectionURL(), ClientID: "country-api", ClientSecret: "s3cret", Shared: failingCache{}}
	})
	mustVerify(t, v, iss.MintOpaque(nil)) // the shared cache fails to read, then to store
	iss.SetDown(true)
	if _, err := v.Verify(bg, iss.MintOpaque(nil)); bearer.Reason(err) != "issuer_unavailable" {
		t.Fatalf("introspection down: %v", err)
	}

	ms := collect(t, reader)
	wantCounts(t, ms, "bouncer.shared_cache.failures", "{failure}", map[string]int64{set(issuer(iss.URL())): 3})
	wantCounts(t, ms, "bouncer.introspection.failures", "{failure}", map[string]int64{set(issuer(iss.URL())): 1})
}

// Verifications from many goroutines while the reader collects: every
// decision is counted once.
func TestConcurrent(t *testing.T) {
	obs, reader := newObserver(t)
	iss := newIssuer(t)
	v := newVerifier(t, iss, obs)
	tok := iss.MustMint(t, nil)
	mustVerify(t, v, tok)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if _, err := v.Verify(bg, tok); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			collect(t, reader)
		}
	})
	wg.Wait()
	wantCounts(t, collect(t, reader), "bouncer.requests", "{request}", map[string]int64{
		set(outcome("accepted"), issuer(iss.URL()), cached(false)): 1,
		set(outcome("accepted"), issuer(iss.URL()), cached(true)):  800,
	})
}

func mustVerify(t *testing.T, v *bearer.Verifier, tok string) *bearer.Claims {
	t.Helper()
	c, err := v.Verify(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
