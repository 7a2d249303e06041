package bearer_test

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// With every request answered from the token cache, the key set is still
// refreshed when it is due: a key the issuer withdrew stops being
// accepted, cached verdicts included, within one refresh interval.
func TestWithdrawnKeyRefusedUnderCachedTraffic(t *testing.T) {
	r := newFaultRig(t)
	tok := r.iss.MustMint(t, map[string]any{"exp": r.clk.Now().Add(time.Hour).Unix()})
	if err := verifyErr(r.v, tok); err != nil {
		t.Fatal(err)
	}
	next := r.ev.wait(t, bearer.EventRefreshScheduled).Next
	old, _ := r.iss.CurrentKey("RS256")
	r.iss.RotateKeys()
	r.iss.UnpublishKey(old.ID())
	withdrawn := r.clk.Now()
	fetches := r.iss.JWKSFetches()

	const step = time.Second
	for {
		r.clk.Advance(step)
		if err := verifyErr(r.v, tok); err != nil {
			t.Fatalf("refused before the refresh: %v", err)
		}
		elapsed := r.clk.Now().Sub(withdrawn)
		if elapsed < next {
			if r.iss.JWKSFetches() != fetches {
				t.Fatalf("the key set was fetched %v after the last fetch, before its refresh time %v", elapsed, next)
			}
			continue
		}
		// The cache hit that found the refresh time passed was answered
		// from the cache and started the refresh in the background; from
		// its end on, the token is refused.
		r.ev.wait(t, bearer.EventKeyRemoved)
		r.ev.wait(t, bearer.EventRefreshScheduled)
		wantRefusal(t, verifyErr(r.v, tok), bearer.ErrUnknownKey, 401)
		t.Logf("refused from %v after the key was withdrawn (refresh interval %v)", elapsed, next)
		if elapsed > next+step {
			t.Fatalf("refused from %v; want within the refresh interval %v", elapsed, next)
		}
		return
	}
}

// A verification in flight while the key set drops its key must not cache
// the token after the purge: the token would then be accepted from the
// cache with its key gone.
func TestInFlightVerdictIsNotCachedAcrossKeyRemoval(t *testing.T) {
	var (
		r     *faultRig
		armed atomic.Bool
		once  sync.Once
		old   *bearertest.Key
		probe string
	)
	// The validator runs after the key was looked up and the signature
	// checked, before the verdict is cached: there, once armed, the
	// issuer drops the key and a refetch (for an unknown kid) installs the
	// new set and purges the cache, before the verification goes on. One
	// verifier, so that every event waited for is its own.
	r = newFaultRig(t, func(c *bearer.Config) {
		c.Validators = []bearer.Validator{bearer.ValidatorFunc(func(ctx context.Context, _ *bearer.Claims) error {
			if !armed.Load() {
				return nil
			}
			once.Do(func() {
				r.iss.RotateKeys()
				r.iss.UnpublishKey(old.ID())
				r.clk.Advance(11 * time.Second) // past the refetch cooldown
				wantRefusal(t, verifyErr(r.v, probe), bearer.ErrUnknownKey, 401)
				r.ev.wait(t, bearer.EventKeyRemoved)
			})
			return nil
		})}
	})
	r.warm(t)
	old, _ = r.iss.CurrentKey("RS256")
	tok := r.iss.MustMint(t, map[string]any{"exp": r.clk.Now().Add(time.Hour).Unix()})
	probe = r.iss.MustMint(t, nil, bearertest.WithHeader("kid", "not-published"))
	armed.Store(true)
	if err := verifyErr(r.v, tok); err != nil {
		t.Fatalf("the verification in flight: %v", err)
	}
	if st := r.v.Status(); st.CachedTokens != 0 {
		t.Fatalf("%d tokens cached after their key left the set", st.CachedTokens)
	}
	wantRefusal(t, verifyErr(r.v, tok), bearer.ErrUnknownKey, 401)
}

// A kid the issuer gives to another key after a rotation: the next fetch
// replaces the old key, and the verdicts made with the old key go with it.
func TestReusedKidReplacesTheOldKeyAndItsVerdicts(t *testing.T) {
	r := newFaultRig(t)
	old, _ := r.iss.CurrentKey("RS256")
	oldTok := r.iss.MustMint(t, map[string]any{"exp": r.clk.Now().Add(time.Hour).Unix()})
	if err := verifyErr(r.v, oldTok); err != nil {
		t.Fatal(err)
	}
	r.ev.wait(t, bearer.EventRefreshScheduled)
	fresh, err := bearertest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	fresh = fresh.WithID(old.ID())
	r.iss.UnpublishKey(old.ID())
	r.iss.PublishKey(fresh)
	newTok := r.iss.MustMint(t, map[string]any{"exp": r.clk.Now().Add(time.Hour).Unix()}, bearertest.WithKey(fresh))

	r.clk.Advance(6 * time.Minute) // past the refresh time
	if err := verifyErr(r.v, oldTok); err != nil {
		t.Fatalf("the hit that starts the refresh: %v", err)
	}
	changes := map[bearer.EventKind]string{}
	for _, kind := range []bearer.EventKind{bearer.EventKeyRemoved, bearer.EventKeyAdded} {
		changes[kind] = r.ev.wait(t, kind).KeyID
	}
	if changes[bearer.EventKeyRemoved] != old.ID() || changes[bearer.EventKeyAdded] != old.ID() {
		t.Fatalf("a reused kid is reported as %v; want removed and added", changes)
	}
	r.ev.wait(t, bearer.EventRefreshScheduled)
	wantRefusal(t, verifyErr(r.v, oldTok), bearer.ErrSignature, 401)
	if err := verifyErr(r.v, newTok); err != nil {
		t.Fatalf("the new key under the old kid: %v", err)
	}
	if err := verifyErr(r.v, newTok); err != nil { // a header cached for the kid names no key
		t.Fatalf("again: %v", err)
	}
	wantRefusal(t, verifyErr(r.v, oldTok), bearer.ErrSignature, 401)
}

// A refetch for an unknown kid asks every cache on the way to revalidate,
// and a 304 (or any answer but 200) never stands for the issuer's set.
func TestUnknownKidRefetchBypassesHTTPCaches(t *testing.T) {
	for _, notModified := range []bool{false, true} {
		t.Run(map[bool]string{false: "200", true: "304"}[notModified], func(t *testing.T) {
			r := newFaultRig(t)
			var mu sync.Mutex
			var seen []string
			jwks := r.iss.DefaultJWKSHandler()
			r.iss.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				mu.Lock()
				seen = append(seen, req.Header.Get("Cache-Control")+"|"+req.Header.Get("Pragma"))
				mu.Unlock()
				if notModified && req.Header.Get("Cache-Control") == "no-cache" {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				jwks.ServeHTTP(w, req)
			}))
			r.warm(t)
			r.clk.Advance(11 * time.Second)
			r.iss.RotateKeys()
			fresh := r.iss.MustMint(t, nil)
			err := verifyErr(r.v, fresh)
			mu.Lock()
			got := slices.Clone(seen)
			mu.Unlock()
			if len(got) != 2 || got[0] != "|" || got[1] != "no-cache|no-cache" {
				t.Fatalf("Cache-Control|Pragma of the fetches: %q; want none on the first, no-cache on the refetch", got)
			}
			if !notModified {
				if err != nil {
					t.Fatalf("the rotated key: %v", err)
				}
				return
			}
			wantRefusal(t, err, bearer.ErrUnknownKey, 401)
			if ev := r.ev.wait(t, bearer.EventFetchFailed); !strings.Contains(ev.Err.Error(), "304") {
				t.Fatalf("a 304 is taken for %v", ev.Err)
			}
			if st := r.v.Status(); st.Keys != 1 || !st.Ready {
				t.Fatalf("after the 304: %+v", st)
			}
		})
	}
}

// After failed fetches, the first one that succeeds says so once, at Info,
// with what changed, and tells the Observer.
func TestIssuerReturnIsLoggedOnce(t *testing.T) {
	for _, changed := range []bool{false, true} {
		t.Run(map[bool]string{false: "keys unchanged", true: "keys changed"}[changed], func(t *testing.T) {
			logs, logger := logTo(slog.LevelInfo)
			var mu sync.Mutex
			var recovered []bearer.Event
			// One verifier, observed by the rig's events and by this test.
			r := newFaultRig(t, func(c *bearer.Config) {
				c.Logger = logger
				rig := c.Observer
				c.Observer = bearer.ObserverFunc(func(e bearer.Event) {
					if e.Kind == bearer.EventFetchRecovered {
						mu.Lock()
						recovered = append(recovered, e)
						mu.Unlock()
					}
					rig.Observe(e)
				})
			})
			tok := r.iss.MustMint(t, map[string]any{"exp": r.clk.Now().Add(time.Hour).Unix()})
			r.warm(t)
			r.iss.SetDown(true)
			r.clk.Advance(6 * time.Minute)
			for range 3 { // three failed refreshes, a cooldown apart
				_ = verifyErr(r.v, tok)
				// The fetch's events reach the Observer each just after its
				// log line, the stale keys after the failure: wait for the
				// last, or the test may read the log before it is written.
				r.ev.wait(t, bearer.EventFetchFailed)
				r.ev.wait(t, bearer.EventStaleKeys)
				r.clk.Advance(11 * time.Second)
			}
			if changed {
				r.iss.RotateKeys()
			}
			r.iss.SetDown(false)
			for range 3 { // the refresh that succeeds, then two more
				_ = verifyErr(r.v, tok)
				r.ev.wait(t, bearer.EventRefreshScheduled)
				r.clk.Advance(6 * time.Minute)
			}
			want := "bearer: issuer reachable again after 3 failures, keys unchanged"
			if changed {
				want = "bearer: issuer reachable again after 3 failures, keys changed"
			}
			// The recovery line follows the events a fetch hands the
			// Observer: wait for it rather than race it.
			lines := logs.lines("bearer: issuer reachable again")
			for deadline := time.Now().Add(5 * time.Second); len(lines) == 0 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
				lines = logs.lines("bearer: issuer reachable again")
			}
			if len(lines) != 1 || lines[0]["msg"] != want || lines[0]["level"] != "INFO" || lines[0]["failures"] != float64(3) {
				t.Fatalf("recovery lines: %v; want one %q", lines, want)
			}
			if added, _ := lines[0]["added"].([]any); changed && len(added) != 1 {
				t.Fatalf("the changes are not named: %v", lines[0])
			}
			mu.Lock()
			defer mu.Unlock()
			if len(recovered) != 1 || recovered[0].Failures != 3 || recovered[0].Age < 22*time.Second {
				t.Fatalf("recovery events: %+v", recovered)
			}
			if n := len(failureLines(logs)); n != 2 {
				t.Fatalf("%d lines about failed fetches; want the first failure and its stale keys; the log: %v", n, logs.lines(""))
			}
		})
	}
}

// An API started while its issuer is down logs the first failure, then a
// summary a minute: not a line per retry.
func TestColdOutageLogsBoundedLines(t *testing.T) {
	logs, logger := logTo(slog.LevelInfo)
	r := newFaultRig(t, func(c *bearer.Config) { c.Logger = logger })
	tok := r.iss.MustMint(t, map[string]any{"exp": r.clk.Now().Add(time.Hour).Unix()})
	r.iss.SetDown(true)
	start := r.clk.Now()
	for r.clk.Now().Sub(start) <= 65*time.Second { // a request every 100ms for over a minute
		wantRefusal(t, verifyErr(r.v, tok), bearer.ErrIssuerUnavailable, 503)
		r.clk.Advance(100 * time.Millisecond)
	}
	attempts := r.iss.DiscoveryFetches()
	r.iss.SetDown(false)
	r.clk.Advance(time.Second)
	if err := verifyErr(r.v, tok); err != nil {
		t.Fatal(err)
	}
	all := logs.lines("")
	t.Logf("%d fetch attempts during the outage, %d log lines", attempts, len(all))
	if attempts < 30 {
		t.Fatalf("only %d attempts: the outage did not exercise retries", attempts)
	}
	// The first failure, one summary of the failures and one of the
	// refusals, the key loaded and the recovery.
	if len(all) > 5 || len(failureLines(logs)) != 1 {
		t.Fatalf("%d log lines for a minute's cold outage:\n%v", len(all), all)
	}
	summary := logs.lines("bearer: issuer keys still cannot be fetched")
	if len(summary) != 1 || summary[0]["level"] != "WARN" || summary[0]["failures"].(float64) < 30 {
		t.Fatalf("summary lines: %v\nall: %v", summary, all)
	}
	if n := len(logs.lines("bearer: issuer reachable again")); n != 1 {
		t.Fatalf("%d recovery lines", n)
	}
}

// failureLines are the log lines of single failed fetches and stale keys.
func failureLines(logs *logBuffer) []map[string]any {
	var out []map[string]any
	for _, l := range logs.lines("bearer: issuer keys") {
		if l["event"] == "fetch_failed" || l["event"] == "stale_keys" {
			out = append(out, l)
		}
	}
	return out
}

// Close ends what a verifier runs: a key fetch in flight is cancelled and
// waited for, the summary due is written, and afterwards cached traffic
// past the refresh time starts no fetch.
func TestCloseLeavesNothingRunning(t *testing.T) {
	logs, logger := logTo(slog.LevelInfo)
	r := newFaultRig(t, func(c *bearer.Config) { c.Logger = logger })
	tok := r.iss.MustMint(t, map[string]any{"exp": r.clk.Now().Add(5 * time.Hour).Unix()})
	if err := verifyErr(r.v, tok); err != nil {
		t.Fatal(err)
	}
	_ = verifyErr(r.v, "garbage") // a refusal to summarise
	jwks := r.iss.DefaultJWKSHandler()
	r.iss.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		<-req.Context().Done() // a refresh that hangs until cancelled
		jwks.ServeHTTP(w, req)
	}))
	r.clk.Advance(6 * time.Minute)
	if err := verifyErr(r.v, tok); err != nil { // starts the refresh
		t.Fatal(err)
	}
	waitFor(t, func() bool { return r.iss.JWKSFetches() == 2 })
	done := make(chan struct{})
	go func() {
		_ = r.v.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the fetch in flight")
	}
	_ = r.v.Close()
	if g := bearerGoroutines(); g != "" {
		t.Fatalf("running after Close:\n%s", g)
	}
	if n := len(logs.lines("bearer: refusals")); n != 1 {
		t.Fatalf("%d summaries written by Close; want 1", n)
	}
	if n := len(failureLines(logs)); n != 0 {
		t.Fatalf("the cancelled fetch was logged as a failure: %v", failureLines(logs))
	}
	fetches := r.iss.JWKSFetches()
	for range 3 {
		r.clk.Advance(time.Hour)
		if err := verifyErr(r.v, tok); err != nil {
			t.Fatalf("after Close, a cached token within MaxStale: %v", err)
		}
	}
	wantRefusal(t, verifyErr(r.v, r.iss.MustMint(t, nil, bearertest.WithHeader("kid", "other"))), bearer.ErrUnknownKey, 401)
	if n := r.iss.JWKSFetches() - fetches; n != 0 {
		t.Fatalf("%d fetches after Close", n)
	}
}

// bearerGoroutines returns the stacks of goroutines running bouncer's
// code, other than tests and the process's one coarse clock.
func bearerGoroutines() string {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if (strings.Contains(g, "core/bearer.") || strings.Contains(g, "core/internal/")) &&
			!strings.Contains(g, "_test.go") && !strings.Contains(g, "internal/coarseclock.") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}

// Past MaxStale, tokens cached with the keys are not reused either: they
// wait for the keys like any other, and get 503 while the issuer is down.
// A verifier idle that long starts again like a new one.
func TestCachedTokensExpireWithTheKeysAfterMaxStale(t *testing.T) {
	r := newFaultRig(t, func(c *bearer.Config) { c.MaxStale = time.Hour })
	tok := r.iss.MustMint(t, map[string]any{"exp": r.clk.Now().Add(24 * time.Hour).Unix()})
	if err := verifyErr(r.v, tok); err != nil {
		t.Fatal(err)
	}
	r.iss.SetDown(true)
	r.clk.Advance(5*time.Minute + 59*time.Minute) // within MaxStale past the refresh time (±10%)
	if err := verifyErr(r.v, tok); err != nil {
		t.Fatalf("within MaxStale: %v", err)
	}
	r.clk.Advance(time.Hour) // idle, and the issuer down, past MaxStale
	wantRefusal(t, verifyErr(r.v, tok), bearer.ErrIssuerUnavailable, 503)
	r.iss.SetDown(false)
	r.clk.Advance(time.Second)
	if err := verifyErr(r.v, tok); err != nil {
		t.Fatalf("once the issuer is back: %v", err)
	}
}

// New contacts nothing and starts nothing; a verifier that is never used
// has nothing running and nothing to close.
func TestNewStartsNothing(t *testing.T) {
	iss := newIssuer(t)
	for range 10 {
		newVerifier(t, iss)
	}
	if g := bearerGoroutines(); g != "" {
		t.Fatalf("running after New:\n%s", g)
	}
	if n := iss.DiscoveryFetches() + iss.JWKSFetches(); n != 0 {
		t.Fatalf("New made %d requests to the issuer", n)
	}
}
