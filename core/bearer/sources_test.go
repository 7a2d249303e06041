package bearer_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// memorySource is a JWKSSource whose document a test swaps, or makes fail.
type memorySource struct {
	mu    sync.Mutex
	doc   []byte
	err   error
	calls atomic.Int32
}

func (s *memorySource) JWKS(context.Context) ([]byte, error) {
	s.calls.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.doc, s.err
}

func (s *memorySource) set(doc []byte, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doc, s.err = doc, err
}

func jwksOf(t *testing.T, use string, keys ...*bearertest.Key) []byte {
	t.Helper()
	set := map[string]any{"keys": []any{}}
	for _, k := range keys {
		jwk := k.PublicJWK()
		switch use {
		case "":
			delete(jwk, "use")
		default:
			jwk["use"] = use
		}
		set["keys"] = append(set["keys"].([]any), jwk)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newKey(t *testing.T, alg string) *bearertest.Key {
	t.Helper()
	k, err := bearertest.NewKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// A JWKSSource supplies the keys in place of discovery and fetches, on
// the same schedule: a kid it did not hold is looked for again, a failure
// keeps the keys held, and an empty set it answers with is taken as is.
func TestJWKSSource(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t, bearertest.WithClock(clk.Now))
	k1, k2 := newKey(t, "ES256"), newKey(t, "ES256")
	src := &memorySource{doc: jwksOf(t, "sig", k1)}
	v := newVerifier(t, iss, func(c *bearer.Config) { c.JWKSSource = src; c.Now = clk.Now })
	defer v.Close()

	if _, err := v.Verify(bg, iss.MustMint(t, nil, bearertest.WithKey(k1))); err != nil {
		t.Fatal(err)
	}
	if iss.JWKSFetches()+iss.DiscoveryFetches() != 0 {
		t.Fatal("the issuer was contacted though a JWKSSource supplies the keys")
	}

	// A new key: its kid is unknown, so the source is asked again.
	src.set(jwksOf(t, "sig", k1, k2), nil)
	clk.Advance(11 * time.Second) // past RefetchCooldown
	if _, err := v.Verify(bg, iss.MustMint(t, nil, bearertest.WithKey(k2))); err != nil {
		t.Fatalf("a key the source added is not found: %v", err)
	}

	// A failing source keeps the keys held, and says why in Status.
	src.set(nil, errors.New("bundle file: no such file"))
	clk.Advance(6 * time.Minute) // past KeyMaxAge
	if _, err := v.Verify(bg, iss.MustMint(t, nil, bearertest.WithKey(k1))); err != nil {
		t.Fatalf("a failing source dropped the keys: %v", err)
	}
	waitFor(t, func() bool { return v.Status().Failures > 0 })
	if st := v.Status(); !st.Ready || st.Keys != 2 || !strings.Contains(st.LastError.Error(), "no such file") {
		t.Fatalf("status after a failure = %+v", st)
	}

	// An empty set is the source's word: every key is withdrawn.
	src.set([]byte(`{"keys":[]}`), nil)
	clk.Advance(6 * time.Minute)
	_, _ = v.Verify(bg, iss.MustMint(t, nil, bearertest.WithKey(k1))) // starts the refresh
	waitFor(t, func() bool { return v.Status().Keys == 0 && v.Status().Failures == 0 })
	wantRefusal(t, verifyErr(v, iss.MustMint(t, nil, bearertest.WithKey(k1))), bearer.ErrUnknownKey, 401)
	if st := v.Status(); st.Ready {
		t.Fatalf("Ready with no keys: %+v", st)
	}
	if err := v.Ready(bg); err == nil {
		t.Fatal("Ready(ctx) = nil with no keys")
	}
}

// A source's answer is judged as a fetched set is, key by key: an
// encryption key or a symmetric one never becomes a signing key.
func TestJWKSSourceSkipsUnusableKeys(t *testing.T) {
	iss := newIssuer(t)
	k := newKey(t, "RS256")
	src := &memorySource{doc: jwksOf(t, "enc", k)}
	v := newVerifier(t, iss, func(c *bearer.Config) { c.JWKSSource = src })
	defer v.Close()
	wantRefusal(t, verifyErr(v, iss.MustMint(t, nil, bearertest.WithKey(k))), bearer.ErrUnknownKey, 401)
}

// KeyUse admits keys published for another use than sig, and only them;
// without it, such keys stay skipped, and "enc" can never be chosen.
func TestKeyUse(t *testing.T) {
	iss := newIssuer(t)
	svid, sig, bare := newKey(t, "ES256"), newKey(t, "ES256"), newKey(t, "ES256")
	set := mergeSets(t, jwksOf(t, "jwt-svid", svid), jwksOf(t, "sig", sig), jwksOf(t, "", bare))

	v := newVerifier(t, iss, func(c *bearer.Config) { c.JWKS = set; c.KeyUse = "jwt-svid" })
	if _, err := v.Verify(bg, iss.MustMint(t, nil, bearertest.WithKey(svid))); err != nil {
		t.Fatalf("a jwt-svid key was not taken: %v", err)
	}
	for name, k := range map[string]*bearertest.Key{"use sig": sig, "no use": bare} {
		if err := verifyErr(v, iss.MustMint(t, nil, bearertest.WithKey(k))); !errors.Is(err, bearer.ErrUnknownKey) {
			t.Errorf("%s: a key of another use verified a token under KeyUse jwt-svid: %v", name, err)
		}
	}

	plain := newVerifier(t, iss, func(c *bearer.Config) { c.JWKS = set })
	if err := verifyErr(plain, iss.MustMint(t, nil, bearertest.WithKey(svid))); !errors.Is(err, bearer.ErrUnknownKey) {
		t.Errorf("a jwt-svid key verified a token without KeyUse: %v", err)
	}
	for _, k := range []*bearertest.Key{sig, bare} {
		if _, err := plain.Verify(bg, iss.MustMint(t, nil, bearertest.WithKey(k))); err != nil {
			t.Errorf("default KeyUse: %v", err)
		}
	}

	for _, use := range []string{"enc", " jwt-svid", "jwt svid"} {
		if _, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, JWKS: set, KeyUse: use}); err == nil {
			t.Errorf("KeyUse %q accepted", use)
		}
	}
}

func mergeSets(t *testing.T, sets ...[]byte) []byte {
	t.Helper()
	var all []any
	for _, s := range sets {
		var doc struct{ Keys []any }
		if err := json.Unmarshal(s, &doc); err != nil {
			t.Fatal(err)
		}
		all = append(all, doc.Keys...)
	}
	b, _ := json.Marshal(map[string]any{"keys": all})
	return b
}

// IssuerOptional accepts tokens without iss, as SPIFFE JWT-SVIDs are by
// default, from a key set named by Issuer; a token that names an issuer
// must still name that one.
func TestIssuerOptional(t *testing.T) {
	iss := newIssuer(t)
	k := newKey(t, "ES256")
	set := jwksOf(t, "sig", k)
	name := "spiffe://example.org"
	v, err := bearer.New(bearer.Config{Issuer: name, IssuerOptional: true, Audiences: []string{testAudience}, JWKS: set, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(bg, iss.MustMint(t, map[string]any{"iss": nil}, bearertest.WithKey(k)))
	if err != nil {
		t.Fatalf("a token without iss was refused: %v", err)
	}
	if c.Issuer != "" {
		t.Errorf("Claims.Issuer = %q for a token without iss", c.Issuer)
	}
	if _, err := v.Verify(bg, iss.MustMint(t, map[string]any{"iss": name}, bearertest.WithKey(k))); err != nil {
		t.Fatalf("a token naming the issuer was refused: %v", err)
	}
	for _, other := range []string{iss.URL(), "spiffe://example.org/", ""} {
		claims := map[string]any{"iss": other}
		if other == "" {
			claims["iss"] = json.RawMessage(`""`)
		}
		if other == "" {
			// An empty iss is no issuer at all: refused, never taken as absent.
			wantRefusal(t, verifyErr(v, iss.MustMint(t, claims, bearertest.WithKey(k))), bearer.ErrIssuer, 401)
			continue
		}
		wantRefusal(t, verifyErr(v, iss.MustMint(t, claims, bearertest.WithKey(k))), bearer.ErrIssuer, 401)
	}

	// Without it, a token must name the issuer.
	strict := newVerifier(t, iss, func(c *bearer.Config) { c.JWKS = set })
	wantRefusal(t, verifyErr(strict, iss.MustMint(t, map[string]any{"iss": nil}, bearertest.WithKey(k))), bearer.ErrIssuer, 401)

	// The keys must not be the issuer's to discover: an issuer that is
	// fetched from is named by its tokens.
	bad := []bearer.Config{
		{Issuer: iss.URL(), IssuerOptional: true, Audiences: []string{testAudience}},
		{Issuer: iss.URL(), IssuerOptional: true, Audiences: []string{testAudience}, JWKSURL: iss.JWKSURL()},
		{Issuer: name, IssuerOptional: true, Audiences: []string{testAudience}, JWKS: set, Introspection: &bearer.Introspection{URL: "https://example.org/introspect", ClientID: "a", ClientSecret: "b"}},
		{Issuer: "https://login.microsoftonline.com/{tenantid}/v2.0", IssuerOptional: true, Audiences: []string{testAudience}, JWKS: set},
		{Issuer: name, Audiences: []string{testAudience}, JWKS: set}, // a name that is not an https URL needs IssuerOptional
		{Issuer: "not a uri", IssuerOptional: true, Audiences: []string{testAudience}, JWKS: set},
	}
	for i, cfg := range bad {
		if _, err := bearer.New(cfg); err == nil {
			t.Errorf("config %d accepted", i)
		}
	}
}

// RefusedIssuers tells a caller why a known kind of token is never
// accepted, in place of the plain "not issued by": by a Verifier and by a
// MultiVerifier that trusts it.
func TestRefusedIssuers(t *testing.T) {
	iss := newIssuer(t)
	why := "the token is a legacy service-account token"
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.RefusedIssuers = map[string]string{"kubernetes/serviceaccount": why}
	})
	legacy := iss.MustMint(t, map[string]any{"iss": "kubernetes/serviceaccount"})
	e := wantRefusal(t, verifyErr(v, legacy), bearer.ErrIssuer, 401)
	if e.Description != why {
		t.Errorf("description = %q; want %q", e.Description, why)
	}
	other := wantRefusal(t, verifyErr(v, iss.MustMint(t, map[string]any{"iss": "https://other.example"})), bearer.ErrIssuer, 401)
	if other.Description == why {
		t.Error("another issuer's token got the legacy description")
	}
	if _, err := v.Verify(bg, iss.MustMint(t, nil)); err != nil {
		t.Fatalf("the issuer's own token: %v", err)
	}

	m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{{
		Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: quiet,
		RefusedIssuers: map[string]string{"kubernetes/serviceaccount": why},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if e := wantRefusal(t, verifyErr(m, legacy), bearer.ErrIssuer, 401); e.Description != why {
		t.Errorf("MultiVerifier description = %q; want %q", e.Description, why)
	}

	for _, refused := range []map[string]string{{iss.URL(): why}, {"x": ""}, {"": why}} {
		if _, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, RefusedIssuers: refused}); err == nil {
			t.Errorf("RefusedIssuers %v accepted", refused)
		}
	}
}
