package bearer_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// events collects a verifier's key events for tests to wait on.
type events struct {
	ch chan bearer.Event
}

func newEvents() *events { return &events{ch: make(chan bearer.Event, 4096)} }

func (e *events) Observe(ev bearer.Event) {
	select {
	case e.ch <- ev:
	default:
	}
}

// wait returns the next event of kind, failing the test after 5s (a
// background fetch against a loopback server takes milliseconds).
func (e *events) wait(t *testing.T, kind bearer.EventKind) bearer.Event {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-e.ch:
			if ev.Kind == kind {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event", kind)
		}
	}
}

// faultRig is an issuer, a verifier on a fake clock, and the verifier's
// events.
type faultRig struct {
	clk *clock
	iss *bearertest.Issuer
	v   *bearer.Verifier
	ev  *events
}

func newFaultRig(t *testing.T, edit ...func(*bearer.Config)) *faultRig {
	t.Helper()
	r := &faultRig{clk: newClock(), ev: newEvents()}
	r.iss = newIssuer(t, bearertest.WithClock(r.clk.Now))
	r.v = newVerifier(t, r.iss, append([]func(*bearer.Config){func(c *bearer.Config) {
		c.Now = r.clk.Now
		c.Observer = r.ev
	}}, edit...)...)
	return r
}

// warm verifies one token so that keys are held.
func (r *faultRig) warm(t *testing.T) {
	t.Helper()
	if err := verifyErr(r.v, r.iss.MustMint(t, nil)); err != nil {
		t.Fatal(err)
	}
	r.ev.wait(t, bearer.EventRefreshScheduled)
}

func handlerStatus(code int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
}

func TestRotationUnderLoadFailsNothing(t *testing.T) {
	r := newFaultRig(t)
	r.warm(t)
	old := r.iss.MustMint(t, nil)
	r.clk.Advance(11 * time.Second) // the last fetch is older than the cooldown
	r.iss.RotateKeys()
	fresh := r.iss.MustMint(t, nil)
	before := r.iss.JWKSFetches()

	var failed atomic.Int32
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				tok := old
				if (w+i)%2 == 0 {
					tok = fresh
				}
				if err := verifyErr(r.v, tok); err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of 800 requests with published keys failed during rotation", n)
	}
	if n := r.iss.JWKSFetches() - before; n != 1 {
		t.Fatalf("rotation took %d JWKS fetches; want 1 shared by all callers", n)
	}
}

func TestTenMinuteOutageServesCachedKeys(t *testing.T) {
	r := newFaultRig(t)
	r.warm(t)
	r.iss.SetDown(true)
	failed := 0
	for step := 0; step < 20; step++ { // 20 × 30s
		r.clk.Advance(30 * time.Second)
		if err := verifyErr(r.v, r.iss.MustMint(t, nil)); err != nil {
			failed++
		}
	}
	if failed != 0 {
		t.Fatalf("%d of 20 requests failed during a 10-minute outage", failed)
	}
	r.ev.wait(t, bearer.EventStaleKeys)
	if st := r.v.Status(); !st.Ready || !st.Stale || st.Failures == 0 || st.LastError == nil {
		t.Fatalf("status during outage = %+v", st)
	}
	r.iss.SetDown(false)
	r.clk.Advance(11 * time.Second)
	if err := verifyErr(r.v, r.iss.MustMint(t, nil)); err != nil {
		t.Fatal(err)
	}
	r.ev.wait(t, bearer.EventFetchSucceeded)
	if st := r.v.Status(); st.Stale || st.Failures != 0 {
		t.Fatalf("status after recovery = %+v", st)
	}
}

func TestStaleKeysExpireAfterMaxStale(t *testing.T) {
	r := newFaultRig(t, func(c *bearer.Config) { c.MaxStale = time.Hour })
	r.warm(t)
	r.iss.SetDown(true)
	r.clk.Advance(5*time.Minute + 59*time.Minute) // refresh time ±10% jitter, plus most of an hour
	if err := verifyErr(r.v, r.iss.MustMint(t, nil)); err != nil {
		t.Fatalf("within MaxStale: %v", err)
	}
	r.clk.Advance(time.Hour)
	e := wantRefusal(t, verifyErr(r.v, r.iss.MustMint(t, nil)), bearer.ErrIssuerUnavailable, 503)
	if e.RetryAfter < time.Second {
		t.Fatalf("RetryAfter = %v", e.RetryAfter)
	}
	if r.v.Status().Ready {
		t.Fatal("Status reports ready with expired keys")
	}
}

func TestRefreshFailuresKeepTheLastGoodKeys(t *testing.T) {
	cases := map[string]http.Handler{
		"500": handlerStatus(500),
		"garbage": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte("<html>maintenance</html>"))
		}),
		"empty set":          serveJWKS(),
		"only unusable keys": serveJWKS(map[string]any{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}),
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			r := newFaultRig(t)
			r.warm(t)
			r.iss.SetJWKSHandler(h)
			r.clk.Advance(6 * time.Minute) // past the refresh time
			tok := r.iss.MustMint(t, nil)
			if err := verifyErr(r.v, tok); err != nil {
				t.Fatal(err)
			}
			r.ev.wait(t, bearer.EventFetchFailed)
			if err := verifyErr(r.v, tok); err != nil {
				t.Fatalf("after the failed refresh: %v", err)
			}
			if st := r.v.Status(); st.Keys == 0 || !st.Stale {
				t.Fatalf("status = %+v", st)
			}
		})
	}
}

func TestPartialJWKSKeepsTheGoodEntries(t *testing.T) {
	r := newFaultRig(t)
	k, _ := r.iss.CurrentKey("RS256")
	r.iss.SetJWKSHandler(serveJWKS(
		map[string]any{"kty": "RSA", "kid": "oaep", "alg": "RSA-OAEP", "use": "enc", "n": k.PublicJWK()["n"], "e": "AQAB"},
		map[string]any{"kty": "OKP", "kid": "ed448", "crv": "Ed448", "x": "AAAA"},
		map[string]any{"kty": "QUANTUM", "kid": "new"},
		map[string]any{"kty": "RSA", "kid": "bad-n", "n": "@@", "e": "AQAB"},
		k.PublicJWK(),
	))
	if err := verifyErr(r.v, r.iss.MustMint(t, nil)); err != nil {
		t.Fatal(err)
	}
	skipped := map[string]bool{}
	for range 4 {
		skipped[r.ev.wait(t, bearer.EventKeySkipped).KeyID] = true
	}
	for _, kid := range []string{"oaep", "ed448", "new", "bad-n"} {
		if !skipped[kid] {
			t.Errorf("no skip reported for %s: %v", kid, skipped)
		}
	}
}

func TestDroppedKeyIsRefusedAfterRefresh(t *testing.T) {
	r := newFaultRig(t)
	r.warm(t)
	old := r.iss.MustMint(t, nil)
	r.iss.RotateKeys()
	r.iss.RetireOldKeys()
	r.clk.Advance(6 * time.Minute)
	_ = verifyErr(r.v, old) // starts the background refresh
	removed := r.ev.wait(t, bearer.EventKeyRemoved)
	if removed.KeyID == "" {
		t.Fatal("removed event without kid")
	}
	r.ev.wait(t, bearer.EventRefreshScheduled)
	wantRefusal(t, verifyErr(r.v, old), bearer.ErrUnknownKey, 401)
}

func TestSlowJWKSTimesOut(t *testing.T) {
	r := newFaultRig(t, func(c *bearer.Config) { c.FetchTimeout = 200 * time.Millisecond })
	tok := r.iss.MustMint(t, nil)
	r.iss.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-req.Context().Done():
		case <-time.After(3 * time.Second):
		}
	}))
	start := time.Now()
	wantRefusal(t, verifyErr(r.v, tok), bearer.ErrIssuerUnavailable, 503)
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("a hung JWKS held the request %v", took)
	}
}

func TestCacheHeadersSetTheRefreshTime(t *testing.T) {
	cases := []struct {
		name     string
		header   http.Header
		min, max time.Duration
	}{
		{"max-age", http.Header{"Cache-Control": {"public, max-age=600"}}, 540 * time.Second, 660 * time.Second},
		{"s-maxage", http.Header{"Cache-Control": {"s-maxage=120"}}, 108 * time.Second, 132 * time.Second},
		{"max-age less the Age a cache held it", http.Header{"Cache-Control": {"max-age=600"}, "Age": {"480"}}, 108 * time.Second, 132 * time.Second},
		{"an Age past max-age: the least", http.Header{"Cache-Control": {"max-age=600"}, "Age": {"900"}}, 27 * time.Second, 33 * time.Second},
		{"a malformed Age is none", http.Header{"Cache-Control": {"max-age=600"}, "Age": {"-5"}}, 540 * time.Second, 660 * time.Second},
		{"Expires", http.Header{"Expires": {"EXPIRES"}}, 54 * time.Minute, 66 * time.Minute},
		{"none: the default", nil, 270 * time.Second, 330 * time.Second},
		{"no-cache: the default", http.Header{"Cache-Control": {"no-cache"}}, 270 * time.Second, 330 * time.Second},
		{"max-age=0 is clamped up", http.Header{"Cache-Control": {"max-age=0"}}, 27 * time.Second, 33 * time.Second},
		{"a year is clamped down", http.Header{"Cache-Control": {"max-age=31536000"}}, 21*time.Hour + 36*time.Minute, 26*time.Hour + 24*time.Minute},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newFaultRig(t)
			jwks := r.iss.DefaultJWKSHandler()
			r.iss.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				for k, v := range tc.header {
					if v[0] == "EXPIRES" {
						v = []string{r.clk.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}
					}
					w.Header()[k] = v
				}
				jwks.ServeHTTP(w, req)
			}))
			r.warm(t)
			st := r.v.Status()
			if got := st.RefreshAt.Sub(st.FetchedAt); got < tc.min || got > tc.max {
				t.Fatalf("refresh after %v; want within [%v, %v]", got, tc.min, tc.max)
			}
		})
	}
}

// TestForgedKidFloodDuringRotation floods the verifier with 200 tokens with
// random kids over 3 seconds while the issuer rotates in a new key, and
// measures how many JWKS fetches the flood causes and how long the rotated
// key waits to be accepted.
func TestForgedKidFloodDuringRotation(t *testing.T) {
	r := newFaultRig(t)
	r.warm(t)
	r.clk.Advance(time.Minute) // the flood's first forged kid may refetch
	start := r.clk.Now()
	before := r.iss.JWKSFetches()
	var fresh string
	var acceptedAfter time.Duration = -1
	for i := range 200 {
		forged := r.iss.MustMint(t, nil, bearertest.WithHeader("kid", randomKid(i)))
		wantRefusal(t, verifyErr(r.v, forged), bearer.ErrUnknownKey, 401)
		if i == 50 {
			r.iss.RotateKeys()
			fresh = r.iss.MustMint(t, nil)
		}
		if fresh != "" && acceptedAfter < 0 && verifyErr(r.v, fresh) == nil {
			acceptedAfter = r.clk.Now().Sub(start) - 750*time.Millisecond
		}
		r.clk.Advance(15 * time.Millisecond) // 200 tokens in 3s
	}
	for acceptedAfter < 0 && r.clk.Now().Sub(start) < 30*time.Second {
		r.clk.Advance(100 * time.Millisecond)
		if verifyErr(r.v, fresh) == nil {
			acceptedAfter = r.clk.Now().Sub(start) - 750*time.Millisecond
		}
	}
	fetches := r.iss.JWKSFetches() - before
	t.Logf("flood: %d JWKS fetches for 200 forged kids; rotated key accepted %v after its publication", fetches, acceptedAfter)
	if fetches > 5 {
		t.Fatalf("%d JWKS fetches; want at most 5", fetches)
	}
	if acceptedAfter < 0 || acceptedAfter > 15*time.Second {
		t.Fatalf("rotated key accepted after %v; want within 15s", acceptedAfter)
	}
}

func randomKid(i int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 16)
	for j := range b {
		b[j] = letters[(i*31+j*7)%len(letters)]
	}
	return string(b)
}

// TestRecoveryAfterStartDuringOutage measures how soon after the issuer
// comes back a request succeeds, with requests arriving every 100ms.
func TestRecoveryAfterStartDuringOutage(t *testing.T) {
	r := newFaultRig(t)
	tok := r.iss.MustMint(t, map[string]any{"exp": r.clk.Now().Add(time.Hour).Unix()})
	r.iss.SetDown(true)
	for range 50 { // 5s of outage
		wantRefusal(t, verifyErr(r.v, tok), bearer.ErrIssuerUnavailable, 503)
		r.clk.Advance(100 * time.Millisecond)
	}
	r.iss.SetDown(false)
	back := r.clk.Now()
	for verifyErr(r.v, tok) != nil {
		r.clk.Advance(100 * time.Millisecond)
		if r.clk.Now().Sub(back) > 5*time.Second {
			t.Fatal("no recovery within 5s")
		}
	}
	took := r.clk.Now().Sub(back)
	t.Logf("first success %v after the issuer's return", took)
	if took > time.Second {
		t.Fatalf("recovery took %v; want within 1s", took)
	}
}
