package bearer_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// A repeated token is answered from the cache, still refused the moment it
// expires, and forgotten when its key leaves the issuer's set.
func TestVerifiedTokenCache(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t, bearertest.WithClock(clk.Now))
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Now = clk.Now; c.Leeway = -1 })
	tok := iss.MustMint(t, map[string]any{"exp": clk.Now().Add(time.Minute).Unix()})
	r := withAuth("Bearer " + tok)
	first, err := v.Check(bg, r)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := v.Check(bg, r); err != nil || again != first {
		t.Fatalf("repeat: %p %v; want the cached claims %p", again, err, first)
	}
	clk.Advance(61 * time.Second)
	wantRefusal(t, verifyErr(v, tok), bearer.ErrExpired, 401)

	// Rotation: the old key leaves the set, and so do its tokens.
	tok = iss.MustMint(t, nil)
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatal(err)
	}
	iss.RotateKeys()
	iss.RetireOldKeys()
	clk.Advance(10 * time.Minute) // past the key set's refresh time
	_, _ = v.Verify(bg, iss.MustMint(t, nil))
	waitFor(t, func() bool { return verifyErr(v, tok) != nil })
	wantRefusal(t, verifyErr(v, tok), bearer.ErrUnknownKey, 401)
}

// A token that failed is never accepted from the cache, whatever it shares
// with one that passed.
func TestRefusalsAreNotCached(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	good := iss.MustMint(t, nil)
	if _, err := v.Verify(bg, good); err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	forged := parts[0] + "." + b64(`{"iss":"`+iss.URL()+`","aud":"country-api","exp":4102444800,"scope":"admin"}`) + "." + parts[2]
	for range 3 {
		wantRefusal(t, verifyErr(v, forged), bearer.ErrSignature, 401)
	}
	expired := iss.MustMint(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})
	for range 3 {
		wantRefusal(t, verifyErr(v, expired), bearer.ErrExpired, 401)
	}
}

func TestValidatorsRunOnCacheHits(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t, bearertest.WithClock(clk.Now))
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.Now = clk.Now
		c.Validators = []bearer.Validator{bearer.MaxTokenAge(time.Minute)}
	})
	tok := iss.MustMint(t, map[string]any{"exp": clk.Now().Add(time.Hour).Unix()})
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatal(err)
	}
	clk.Advance(2 * time.Minute)
	wantRefusal(t, verifyErr(v, tok), bearer.ErrClaim, 401)
}

// A flood of distinct valid tokens leaves the cache within its bounds.
func TestCacheStaysWithinItsBounds(t *testing.T) {
	iss := newIssuer(t, bearertest.WithTokenAlg("EdDSA"))
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Cache = bearer.CacheConfig{MaxEntries: 1024, MaxBytes: 1 << 20} })
	n := 20000
	if testing.Short() {
		n = 2000
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		if _, err := v.Verify(bg, iss.MustMint(t, map[string]any{"n": i})); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapAlloc) - int64(before.HeapAlloc); grew > 4<<20 {
		t.Fatalf("heap grew by %d bytes after %d distinct tokens; the cache is bounded to 1 MiB", grew, n)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
