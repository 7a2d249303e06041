package bearer_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

func serveJWKS(keys ...map[string]any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
}

func TestRFC8414DiscoveryFallback(t *testing.T) {
	iss := newIssuer(t)
	// An issuer with a path that serves only the RFC 8414 document, as
	// Spring Authorization Server without OIDC does.
	issuer := ""
	var hits []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, r.URL.Path)
		mu.Unlock()
		if r.URL.Path == "/.well-known/oauth-authorization-server/tenant/one" {
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "jwks_uri": iss.JWKSURL()})
			return
		}
		http.NotFound(w, r)
	}))
	defer srv.Close()
	issuer = srv.URL + "/tenant/one"
	tok := iss.MustMint(t, map[string]any{"iss": issuer})
	v, err := bearer.New(bearer.Config{Issuer: issuer, Audiences: []string{testAudience}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatal(err)
	}
	want := []string{"/tenant/one/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/tenant/one"}
	if strings.Join(hits, " ") != strings.Join(want, " ") {
		t.Fatalf("discovery asked %v; want %v", hits, want)
	}
}

func TestDiscoveryRefusesAnotherIssuer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": "https://evil.example", "jwks_uri": "http://127.0.0.1:1/jwks"})
	}))
	defer srv.Close()
	v, err := bearer.New(bearer.Config{Issuer: srv.URL, Audiences: []string{"a"}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	err = v.Ready(bg)
	wantRefusal(t, err, bearer.ErrIssuerUnavailable, 503)
	if !strings.Contains(err.Error(), "https://evil.example") {
		t.Fatalf("the operator is not told why: %v", err)
	}
}

func TestExplicitJWKSURLSkipsDiscovery(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, nil)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.JWKSURL = iss.JWKSURL() })
	if err := verifyErr(v, tok); err != nil {
		t.Fatal(err)
	}
	if n := iss.DiscoveryFetches(); n != 0 {
		t.Fatalf("discovery fetched %d times", n)
	}
	wantRefusal(t, verifyErr(v, iss.MustMint(t, map[string]any{"iss": "https://other.example"})), bearer.ErrIssuer, 401)
}

func TestStartWhileIssuerDownThenRecover(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t)
	tok := iss.MustMint(t, nil)
	iss.SetDown(true)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Now = clk.Now })

	e := wantRefusal(t, verifyErr(v, tok), bearer.ErrIssuerUnavailable, 503)
	if e.RetryAfter < time.Second {
		t.Fatalf("RetryAfter = %v", e.RetryAfter)
	}
	if err := v.Ready(bg); err == nil {
		t.Fatal("Ready while the issuer is down")
	}
	fetches := iss.DiscoveryFetches()
	// Within the backoff, requests do not reach the issuer.
	for range 20 {
		wantRefusal(t, verifyErr(v, tok), bearer.ErrIssuerUnavailable, 503)
	}
	if n := iss.DiscoveryFetches(); n != fetches {
		t.Fatalf("%d discovery requests during backoff", n-fetches)
	}
	iss.SetDown(false)
	clk.Advance(time.Second) // the backoff never exceeds one second
	if err := verifyErr(v, tok); err != nil {
		t.Fatalf("first request after recovery: %v", err)
	}
	if err := v.Ready(bg); err != nil {
		t.Fatal(err)
	}
}

func TestRotatedKeyFoundByRefetch(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t)
	old := iss.MustMint(t, nil)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Now = clk.Now })
	if err := verifyErr(v, old); err != nil {
		t.Fatal(err)
	}
	iss.RotateKeys()
	fresh := iss.MustMint(t, nil)
	clk.Advance(10 * time.Second) // the default refetch cooldown
	if err := verifyErr(v, fresh); err != nil {
		t.Fatalf("token from the rotated key: %v", err)
	}
	if err := verifyErr(v, old); err != nil {
		t.Fatalf("token from the old, still published key: %v", err)
	}
}

func TestForgedKidsCannotFloodTheIssuer(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t)
	good := iss.MustMint(t, nil)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Now = clk.Now })
	if err := verifyErr(v, good); err != nil {
		t.Fatal(err)
	}
	before := iss.JWKSFetches()
	var wg sync.WaitGroup
	var unknown atomic.Int32
	for i := range 200 {
		tok := iss.MustMint(t, nil, bearertest.WithHeader("kid", "forged-"+string(rune('a'+i%26))+strings.Repeat("x", i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := verifyErr(v, tok); err != nil && errorsIs(err, bearer.ErrUnknownKey) {
				unknown.Add(1)
			}
		}()
		if i%50 == 49 {
			clk.Advance(3 * time.Second)
		}
	}
	wg.Wait()
	if unknown.Load() != 200 {
		t.Fatalf("%d of 200 forged tokens refused as unknown key", unknown.Load())
	}
	if n := iss.JWKSFetches() - before; n > 2 {
		t.Fatalf("200 forged kids over 12s caused %d JWKS fetches; want at most 2", n)
	}
}

func TestKeyWithoutAlgIsUsableByItsType(t *testing.T) {
	iss := newIssuer(t)
	k, _ := iss.CurrentKey("RS256")
	jwk := k.PublicJWK()
	delete(jwk, "alg") // as Entra ID publishes its keys
	iss.SetJWKSHandler(serveJWKS(jwk))
	rs := iss.MustMint(t, nil)
	es := iss.MustMint(t, nil, bearertest.WithAlg("ES256"), bearertest.WithHeader("kid", k.ID()))
	v := newVerifier(t, iss)
	if err := verifyErr(v, rs); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, verifyErr(v, es), bearer.ErrAlgorithm, 401)
}

func TestKeysNotMeantForSigningAreSkipped(t *testing.T) {
	iss := newIssuer(t)
	k, _ := iss.CurrentKey("RS256")
	enc := k.PublicJWK()
	enc["use"] = "enc"
	ops := k.PublicJWK()
	ops["key_ops"] = []string{"encrypt"}
	tok := iss.MustMint(t, nil)
	for name, jwk := range map[string]map[string]any{"use enc": enc, "key_ops encrypt": ops} {
		t.Run(name, func(t *testing.T) {
			iss.SetJWKSHandler(serveJWKS(jwk))
			v := newVerifier(t, iss)
			// With no usable key the set is refused as a whole: nothing to verify with.
			wantRefusal(t, verifyErr(v, tok), bearer.ErrIssuerUnavailable, 503)
		})
	}
}

func TestTokenWithoutKid(t *testing.T) {
	iss := newIssuer(t)
	noKid := iss.MustMint(t, nil, bearertest.WithHeader("kid", nil))
	k, _ := iss.CurrentKey("RS256")
	one := k.PublicJWK()
	delete(one, "kid")
	iss.SetJWKSHandler(serveJWKS(one))
	if err := verifyErr(newVerifier(t, iss), noKid); err != nil {
		t.Fatalf("single key without kid: %v", err)
	}
	other, _ := bearertest.NewKey("RS256")
	two := other.PublicJWK()
	delete(two, "kid")
	iss.SetJWKSHandler(serveJWKS(one, two))
	wantRefusal(t, verifyErr(newVerifier(t, iss), noKid), bearer.ErrUnknownKey, 401)
}
