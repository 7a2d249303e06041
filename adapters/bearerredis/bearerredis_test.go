package bearerredis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

var bg = context.Background()

func TestGetSetExpire(t *testing.T) {
	rdb, _ := startRedis(t)
	s := bearerredis.New(rdb, bearerredis.WithPrefix("test:"))
	if _, found, err := s.Get(bg, "k"); found || err != nil {
		t.Fatalf("empty store: %v %v", found, err)
	}
	if err := s.Set(bg, "k", []byte(`{"active":true}`), 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if v, found, err := s.Get(bg, "k"); !found || err != nil || string(v) != `{"active":true}` {
		t.Fatalf("after Set: %q %v %v", v, found, err)
	}
	if n, _ := rdb.Exists(bg, "test:k").Result(); n != 1 {
		t.Fatal("the prefix is not used")
	}
	time.Sleep(300 * time.Millisecond)
	if _, found, _ := s.Get(bg, "k"); found {
		t.Fatal("the entry outlived its TTL")
	}
}

// Of many replicas presenting one key at once, exactly one is told it is
// fresh.
func TestRememberIsAtomic(t *testing.T) {
	rdb, _ := startRedis(t)
	s := bearerredis.New(rdb)
	var fresh atomic.Int32
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			ok, err := s.Remember(bg, "jti-1", time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				fresh.Add(1)
			}
		})
	}
	wg.Wait()
	if fresh.Load() != 1 {
		t.Fatalf("%d replicas were told the key is fresh; want 1", fresh.Load())
	}
	if ttl, _ := rdb.PTTL(bg, "jti-1").Result(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("TTL %v", ttl)
	}
}

// Two replicas behind one Redis ask the issuer once per opaque token; with
// Redis gone, requests still succeed and the failure is reported.
func TestFleetSharesIntrospection(t *testing.T) {
	rdb, stop := startRedis(t)
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"), bearertest.WithClient("country-api", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	store := bearerredis.New(rdb)
	var failures atomic.Int32
	replica := func() *bearer.Verifier {
		v, err := bearer.New(bearer.Config{
			Issuer:        iss.URL(),
			Audiences:     []string{"country-api"},
			Introspection: &bearer.Introspection{ClientID: "country-api", ClientSecret: "secret", Shared: store},
			Observer: bearer.ObserverFunc(func(e bearer.Event) {
				if e.Kind == bearer.EventSharedCacheFailed {
					failures.Add(1)
				}
			}),
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	a, b := replica(), replica()
	for range 10 {
		tok := iss.MintOpaque(map[string]any{"scope": "country.read"})
		for _, v := range []*bearer.Verifier{a, b, a, b} {
			c, err := v.Verify(bg, tok)
			if err != nil || !c.HasScope("country.read") {
				t.Fatalf("%v %v", c, err)
			}
		}
	}
	if n := iss.Introspections(); n != 10 {
		t.Fatalf("%d introspections for 10 tokens on 2 replicas; want 10", n)
	}
	keys, _ := rdb.Keys(bg, "*").Result()
	if len(keys) != 10 {
		t.Fatalf("%d keys in Redis; want 10", len(keys))
	}

	stop()
	tok := iss.MintOpaque(nil)
	for _, v := range []*bearer.Verifier{a, b} {
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatalf("with Redis down: %v", err)
		}
	}
	if failures.Load() == 0 {
		t.Fatal("the Redis outage was not reported")
	}
}

// Two replicas of an API on loopback share one Redis as their DPoP replay
// store: a proof accepted by one, replayed against the other, is refused.
func TestFleetRefusesReplayedProofs(t *testing.T) {
	rdb, _ := startRedis(t)
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	key, _ := bearertest.NewKey("ES256")
	tok := iss.MustMint(t, map[string]any{"cnf": map[string]any{"jkt": key.Thumbprint()}})
	store := bearerredis.New(rdb, bearerredis.WithPrefix("fleet:"))
	replica := func() string {
		v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"},
			DPoP: &bearer.DPoP{PublicURL: "https://api.example.com", Replay: store}})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := v.Check(r.Context(), bearer.HTTPRequest(r)); err != nil {
				resp := v.Response(err)
				w.WriteHeader(resp.Status)
				_, _ = w.Write(resp.Body)
			}
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	a, b := replica(), replica()
	proof, _ := key.DPoPProof(http.MethodGet, "https://api.example.com/country", tok, "")
	call := func(base string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, base+"/country", nil)
		req.Header.Set("Authorization", "DPoP "+tok)
		req.Header.Set("DPoP", proof)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := call(a); code != 200 {
		t.Fatalf("first use on replica A: %d %s", code, body)
	}
	if code, body := call(b); code != 401 || !strings.Contains(body, "used before") {
		t.Fatalf("replay on replica B: %d %s", code, body)
	}
}

// A zero or negative timeout keeps the default rather than failing every
// call at once.
func TestNonPositiveTimeoutKeepsDefault(t *testing.T) {
	rdb, _ := startRedis(t)
	for _, d := range []time.Duration{0, -time.Second} {
		s := bearerredis.New(rdb, bearerredis.WithTimeout(d))
		if err := s.Set(bg, "k", []byte("v"), time.Minute); err != nil {
			t.Fatalf("WithTimeout(%v): Set: %v", d, err)
		}
		if _, found, err := s.Get(bg, "k"); !found || err != nil {
			t.Fatalf("WithTimeout(%v): Get: %v %v", d, found, err)
		}
	}
}

// clock is a settable time source for replicas under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// A replica uses an answer another shared through Redis for its own
// MaxAge from when the issuer gave it, and answers are shared only between
// replicas that ask as the same client.
func TestFleetReplicasKeepTheirOwnBounds(t *testing.T) {
	rdb, _ := startRedis(t)
	clk := &clock{t: time.Now()}
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"), bearertest.WithClock(clk.Now),
		bearertest.WithClient("country-api", "secret"), bearertest.WithClient("billing-api", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	store := bearerredis.New(rdb)
	replica := func(client string, maxAge time.Duration) *bearer.Verifier {
		v, err := bearer.New(bearer.Config{
			Issuer: iss.URL(), Audiences: []string{"country-api"}, Now: clk.Now,
			Introspection: &bearer.Introspection{ClientID: client, ClientSecret: "secret", Shared: store, MaxAge: maxAge},
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	patient, strict, billing := replica("country-api", time.Hour), replica("country-api", time.Second), replica("billing-api", time.Hour)
	tok := iss.MintOpaque(map[string]any{"exp": clk.Now().Add(2 * time.Hour).Unix()})
	for _, v := range []*bearer.Verifier{patient, strict, billing} {
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.Introspections(); n != 2 {
		t.Fatalf("%d introspections; want 2, one per client", n)
	}
	if keys, _ := rdb.Keys(bg, "*").Result(); len(keys) != 2 {
		t.Fatalf("%d keys in Redis; want 2, one per client", len(keys))
	}
	iss.Revoke(tok)
	clk.Advance(10 * time.Minute)
	if _, err := strict.Verify(bg, tok); !errors.Is(err, bearer.ErrInactive) {
		t.Fatalf("a token revoked 10 minutes ago, at a replica whose MaxAge is 1s: %v", err)
	}
}

// Whoever can write the Redis but lacks the fleet's key cannot make a
// token active: a made-up entry, or another token's authentic one put
// under its name, is ignored and reported, and the issuer asked.
func TestFleetIgnoresForgedEntries(t *testing.T) {
	rdb, _ := startRedis(t)
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"), bearertest.WithClient("country-api", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	store := bearerredis.New(rdb)
	var ignored atomic.Int32
	replica := func() *bearer.Verifier {
		v, err := bearer.New(bearer.Config{
			Issuer: iss.URL(), Audiences: []string{"country-api"},
			Introspection: &bearer.Introspection{ClientID: "country-api", ClientSecret: "secret", Shared: store},
			Observer: bearer.ObserverFunc(func(e bearer.Event) {
				if e.Kind == bearer.EventSharedCacheFailed {
					ignored.Add(1)
				}
			}),
		})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	onlyKey := func() string {
		keys, _ := rdb.Keys(bg, "*").Result()
		if len(keys) != 1 {
			t.Fatalf("%d keys; want 1", len(keys))
		}
		return keys[0]
	}
	active := iss.MintOpaque(nil)
	if _, err := replica().Verify(bg, active); err != nil {
		t.Fatal(err)
	}
	activeKey := onlyKey()
	authentic, _ := rdb.Get(bg, activeKey).Bytes()
	rdb.Del(bg, activeKey)
	const junk = "junk-token"
	if _, err := replica().Verify(bg, junk); !errors.Is(err, bearer.ErrInactive) {
		t.Fatalf("junk token: %v", err)
	}
	junkKey := onlyKey()
	made := fmt.Sprintf("%d\n{\"active\":true,\"aud\":\"country-api\",\"exp\":%d}", time.Now().Add(time.Hour).UnixNano(), time.Now().Add(time.Hour).Unix())
	for _, forged := range [][]byte{authentic, []byte(made)} {
		rdb.Set(bg, junkKey, forged, time.Hour)
		before, reported := iss.Introspections(), ignored.Load()
		if _, err := replica().Verify(bg, junk); !errors.Is(err, bearer.ErrInactive) {
			t.Fatalf("with a forged entry: %v", err)
		}
		if iss.Introspections() != before+1 || ignored.Load() == reported {
			t.Fatal("the forged entry was not ignored and reported")
		}
	}
}
