package bearertest_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

func TestSetDown(t *testing.T) {
	iss := newIssuer(t, bearertest.WithIssuerPath("/realms/test"), bearertest.WithClient("c", "s"))
	origin := strings.TrimSuffix(iss.URL(), "/realms/test")
	urls := []string{
		iss.DiscoveryURL(),
		origin + "/.well-known/oauth-authorization-server/realms/test",
		iss.JWKSURL(),
		iss.URL() + "/unknown",
	}
	iss.SetDown(true)
	for _, u := range urls {
		if status, _, _ := get(t, iss.Client(), u); status != http.StatusServiceUnavailable {
			t.Errorf("down: GET %s = %d, want 503", u, status)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, iss.TokenURL(), strings.NewReader(ccForm().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("c", "s")
	resp, err := iss.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("down: token = %d, want 503", resp.StatusCode)
	}

	iss.SetDown(false)
	for _, u := range urls[:3] {
		if status, _, _ := get(t, iss.Client(), u); status != http.StatusOK {
			t.Errorf("up: GET %s = %d, want 200", u, status)
		}
	}
	if r := postToken(t, iss, ccForm(), "c", "s"); r.status != http.StatusOK {
		t.Errorf("up: token = %d %v", r.status, r.body)
	}
}

func TestFetchCounters(t *testing.T) {
	iss := newIssuer(t, bearertest.WithIssuerPath("/t"))
	origin := strings.TrimSuffix(iss.URL(), "/t")
	if iss.JWKSFetches() != 0 || iss.DiscoveryFetches() != 0 {
		t.Fatal("counters do not start at zero")
	}
	get(t, iss.Client(), iss.JWKSURL())
	get(t, iss.Client(), iss.JWKSURL())
	get(t, iss.Client(), iss.DiscoveryURL())
	get(t, iss.Client(), origin+"/.well-known/oauth-authorization-server/t")
	iss.SetDown(true)
	get(t, iss.Client(), iss.JWKSURL())
	if got := iss.JWKSFetches(); got != 3 {
		t.Errorf("JWKSFetches = %d, want 3", got)
	}
	if got := iss.DiscoveryFetches(); got != 2 {
		t.Errorf("DiscoveryFetches = %d, want 2", got)
	}
}

func TestSetJWKSHandler(t *testing.T) {
	iss := newIssuer(t)
	iss.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusBadGateway)
	}))
	if status, _, _ := get(t, iss.Client(), iss.JWKSURL()); status != http.StatusBadGateway {
		t.Errorf("overridden JWKS = %d, want 502", status)
	}

	// A handler that wraps the default one, counting its own calls.
	var calls atomic.Int32
	iss.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		iss.DefaultJWKSHandler().ServeHTTP(w, r)
	}))
	if n := len(fetchJWKS(t, iss).Keys); n != 1 || calls.Load() != 1 {
		t.Errorf("wrapped JWKS: %d keys, %d calls", n, calls.Load())
	}

	iss.SetJWKSHandler(nil)
	fetchJWKS(t, iss)
	if calls.Load() != 1 || iss.JWKSFetches() != 3 {
		t.Errorf("after restoring: %d calls, %d fetches", calls.Load(), iss.JWKSFetches())
	}
}

func TestConcurrentUse(t *testing.T) {
	iss := newIssuer(t, bearertest.WithClient("c", "s", "x"))
	var wg sync.WaitGroup
	for n := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			alg := []string{"RS256", "PS256", "ES256"}[n%3] // keys made concurrently
			if _, err := iss.Mint(nil, bearertest.WithAlg(alg)); err != nil {
				t.Error(err)
			}
			get(t, iss.Client(), iss.JWKSURL())
			if n == 0 {
				iss.RotateKeys()
				iss.RetireOldKeys()
			}
		}()
	}
	wg.Wait()
}
