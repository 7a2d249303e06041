package integration

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/examples/internal/oidcprovider"
)

// TestWithdrawnKeyUnderCachedTraffic withdraws, at the real oidc-provider,
// the key of a token that an API answers from its verified-token cache at
// 200 requests a second, and measures how long the API goes on accepting
// it. Every request is a cache hit, so only the scheduled refresh of the
// key set can notice the withdrawal: it must, within one refresh interval
// (KeyMaxAge here, the least bearer allows, as oidc-provider sends no
// caching headers; ±10% jitter) plus the fetch.
func TestWithdrawnKeyUnderCachedTraffic(t *testing.T) {
	p := oidcprovider.Start(t)
	const maxAge = 30 * time.Second
	var mu sync.Mutex
	uncached, accepted := 0, 0
	var refreshed []time.Time
	obs := bearer.ObserverFunc(func(e bearer.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case bearer.EventAccepted:
			accepted++
			if !e.Cached {
				uncached++
			}
		case bearer.EventKeyRemoved:
			refreshed = append(refreshed, time.Now())
		}
	})
	v, err := bearer.New(bearer.Config{Issuer: p.Issuer, Audiences: []string{oidcprovider.Audience},
		KeyMaxAge: maxAge, Logger: quietLogger(), Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	api := httptest.NewServer(bearerhttp.New(v).RequireScope(oidcprovider.ScopeCountryRead)(
		http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })))
	defer api.Close()

	tok := p.Token(t, oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceRS256, oidcprovider.ScopeCountryRead)
	if r := get(t, api.URL, tok); r.status != http.StatusOK {
		t.Fatalf("before the withdrawal: %d %s", r.status, r.body)
	}
	p.Withdraw(t, headerKid(t, tok))
	withdrawn := time.Now()

	tick := time.NewTicker(5 * time.Millisecond) // 200 requests a second
	defer tick.Stop()
	deadline := withdrawn.Add(maxAge*11/10 + 10*time.Second)
	var last response
	for range tick.C {
		if last = get(t, api.URL, tok); last.status != http.StatusOK || time.Now().After(deadline) {
			break
		}
	}
	took := time.Since(withdrawn)
	mu.Lock()
	defer mu.Unlock()
	t.Logf("withdrawn key refused %v after its withdrawal (%d requests accepted, %d of them from the cache)", took.Round(time.Millisecond), accepted, accepted-uncached)
	if last.status != http.StatusUnauthorized || !strings.Contains(last.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("after %v: %d %s; want 401 invalid_token", took, last.status, last.header.Get("WWW-Authenticate"))
	}
	if took > maxAge*11/10+5*time.Second {
		t.Fatalf("refused %v after the withdrawal; want within the refresh interval (%v ±10%%)", took, maxAge)
	}
	if uncached != 1 || accepted < 1000 {
		t.Fatalf("%d requests accepted, %d of them not from the cache: want cached traffic only", accepted, uncached)
	}
	if len(refreshed) != 1 {
		t.Fatalf("key removed by %d refreshes", len(refreshed))
	}
}

// headerKid reads the kid of a JWT's header.
func headerKid(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var header struct {
		Kid string `json:"kid"`
	}
	if err := json.Unmarshal(b, &header); err != nil || header.Kid == "" {
		t.Fatalf("token header: no kid (%v)", err)
	}
	return header.Kid
}
