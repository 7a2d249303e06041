package bearer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

func newRevoker(t testing.TB, edit ...func(*bearer.RevokerConfig)) *bearer.Revoker {
	t.Helper()
	cfg := bearer.RevokerConfig{Logger: quiet}
	for _, e := range edit {
		e(&cfg)
	}
	r, err := bearer.NewRevoker(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func revoke(t testing.TB, r bearer.RevocationSink, rules ...bearer.Revocation) {
	t.Helper()
	if err := r.Revoke(bg, rules...); err != nil {
		t.Fatal(err)
	}
}

// wantRevoked asserts a refusal for revocation: 401 invalid_token saying
// only that the token was revoked, reason "revoked", and the rule for the
// application through RevokedError.
func wantRevoked(t *testing.T, err error, kind bearer.RevocationKind) bearer.Revocation {
	t.Helper()
	e := wantRefusal(t, err, bearer.ErrRevoked, 401)
	if e.Code != bearer.CodeInvalidToken || e.Description != "the token was revoked" || bearer.Reason(err) != "revoked" {
		t.Fatalf("code %q, description %q, reason %q", e.Code, e.Description, bearer.Reason(err))
	}
	var re *bearer.RevokedError
	if !errors.As(err, &re) || re.Rule.Kind != kind {
		t.Fatalf("the refusal names no rule of kind %v: %v", kind, err)
	}
	return re.Rule
}

// Each kind of rule takes back the tokens it names, answered from the
// token cache until then, and no other token.
func TestRevocationKinds(t *testing.T) {
	iss := newIssuer(t)
	for _, tc := range []struct {
		kind   bearer.RevocationKind
		rule   func(tok string) bearer.Revocation
		spared map[string]any // claims of a token the rule does not cover
	}{
		{bearer.RevokeTokenID, func(string) bearer.Revocation {
			return bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "jti-1"}
		}, map[string]any{"jti": "jti-2", "client_id": "billing"}},
		{bearer.RevokeClientBefore, func(string) bearer.Revocation {
			return bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: "billing", Before: time.Now()}
		}, map[string]any{"client_id": "reporting", "sub": "user-1"}},
		{bearer.RevokeSubjectBefore, func(string) bearer.Revocation {
			return bearer.Revocation{Kind: bearer.RevokeSubjectBefore, Issuer: iss.URL(), Value: "user-1", Before: time.Now()}
		}, map[string]any{"client_id": "billing", "sub": "user-2"}},
		{bearer.RevokeToken, func(tok string) bearer.Revocation {
			return bearer.Revocation{Kind: bearer.RevokeToken, Value: bearer.TokenHash(tok)}
		}, map[string]any{"client_id": "billing", "sub": "user-1"}},
	} {
		t.Run(tc.kind.String(), func(t *testing.T) {
			rv := newRevoker(t)
			v := newVerifier(t, iss, func(c *bearer.Config) { c.Revocation = rv })
			tok := iss.MustMint(t, map[string]any{"jti": "jti-1", "client_id": "billing", "sub": "user-1"})
			spared := iss.MustMint(t, tc.spared)
			for _, tk := range []string{tok, spared} {
				if _, err := v.Verify(bg, tk); err != nil {
					t.Fatal(err)
				}
			}
			if v.Status().CachedTokens != 2 {
				t.Fatal("the tokens are not cached")
			}
			revoke(t, rv, tc.rule(tok))
			for range 2 { // judged afresh, then again (a refusal is never cached)
				_, err := v.Verify(bg, tok)
				rule := wantRevoked(t, err, tc.kind)
				if rule.Source != "" || rule.Expires.IsZero() {
					t.Fatalf("rule %+v", rule)
				}
			}
			if _, err := v.Verify(bg, spared); err != nil {
				t.Fatalf("a token the rule does not cover: %v", err)
			}
		})
	}
}

// A client's tokens issued before the rule's time are refused; those it
// obtains afterwards are accepted. A token without iat cannot be dated,
// so it is refused while such a rule stands.
func TestRevokeClientBefore(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t, bearertest.WithClock(clk.Now))
	rv := newRevoker(t, func(c *bearer.RevokerConfig) { c.Now = clk.Now })
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Revocation, c.Now = rv, clk.Now })
	old := iss.MustMint(t, map[string]any{"client_id": "billing"})
	undated := iss.MustMint(t, map[string]any{"client_id": "billing", "iat": nil})
	otherUndated := iss.MustMint(t, map[string]any{"client_id": "reporting", "iat": nil})
	for _, tok := range []string{old, undated, otherUndated} {
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(2 * time.Second)
	revoke(t, rv, bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: "billing", Before: clk.Now(), Reason: "secret leaked"})
	_, err := v.Verify(bg, old)
	if rule := wantRevoked(t, err, bearer.RevokeClientBefore); rule.Reason != "secret leaked" || !rule.Before.Equal(clk.Now()) {
		t.Fatalf("rule %+v", rule)
	}
	wantRevoked(t, func() error { _, err := v.Verify(bg, undated); return err }(), bearer.RevokeClientBefore)
	if _, err := v.Verify(bg, otherUndated); err != nil {
		t.Fatalf("another client's undated token: %v", err)
	}
	clk.Advance(time.Second)
	if _, err := v.Verify(bg, iss.MustMint(t, map[string]any{"client_id": "billing"})); err != nil {
		t.Fatalf("a token issued after the rule: %v", err)
	}
}

// A rule is never about tokens not issued yet: a Before in the future is
// taken as now, give or take a second.
func TestRevocationBeforeIsNeverLater(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t, bearertest.WithClock(clk.Now))
	rv := newRevoker(t, func(c *bearer.RevokerConfig) { c.Now = clk.Now })
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Revocation, c.Now = rv, clk.Now })
	revoke(t, rv, bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: "billing", Before: clk.Now().Add(24 * time.Hour)})
	if rules := rv.Rules(); len(rules) != 1 || rules[0].Before.After(clk.Now().Add(time.Second)) {
		t.Fatalf("rules %+v", rules)
	}
	clk.Advance(2 * time.Second)
	if _, err := v.Verify(bg, iss.MustMint(t, map[string]any{"client_id": "billing"})); err != nil {
		t.Fatalf("a token issued after now: %v", err)
	}
}

// Rules end when no token they cover can still be accepted, and the
// verifier refuses the tokens that could outlive them.
func TestRevocationRetention(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t, bearertest.WithClock(clk.Now))
	rv := newRevoker(t, func(c *bearer.RevokerConfig) { c.Now, c.Retention = clk.Now, time.Hour })
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Revocation, c.Now = rv, clk.Now })

	t.Run("rules end after the retention", func(t *testing.T) {
		revoke(t, rv,
			bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: "billing", Before: clk.Now()},
			bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "jti-exact", Expires: clk.Now().Add(5 * time.Minute)},
		)
		rules := rv.Rules()
		if len(rules) != 2 {
			t.Fatalf("rules %+v", rules)
		}
		for _, r := range rules {
			want := clk.Now().Add(time.Hour + bearer.MaxLeeway)
			if r.Kind == bearer.RevokeTokenID {
				want = clk.Now().Add(5 * time.Minute)
			}
			if !r.Expires.Equal(want) {
				t.Fatalf("%v expires %v; want %v", r, r.Expires, want)
			}
		}
		clk.Advance(time.Hour + bearer.MaxLeeway)
		if rules := rv.Rules(); len(rules) != 0 {
			t.Fatalf("rules after their end: %+v", rules)
		}
	})
	t.Run("tokens that would outlive a rule", func(t *testing.T) {
		now := clk.Now()
		_, err := v.Verify(bg, iss.MustMint(t, map[string]any{"exp": now.Add(61 * time.Minute).Unix()}))
		wantRefusal(t, err, bearer.ErrLifetime, 401)
		_, err = v.Verify(bg, iss.MustMint(t, map[string]any{"iat": nil, "exp": now.Add(61 * time.Minute).Unix()}))
		wantRefusal(t, err, bearer.ErrLifetime, 401)
		for _, claims := range []map[string]any{{"exp": now.Add(time.Hour).Unix()}, {"iat": nil, "exp": now.Add(time.Hour).Unix()}} {
			if _, err := v.Verify(bg, iss.MustMint(t, claims)); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("a stricter MaxTokenLifetime stands", func(t *testing.T) {
		strict := newVerifier(t, iss, func(c *bearer.Config) { c.Revocation, c.Now, c.MaxTokenLifetime = rv, clk.Now, 10*time.Minute })
		_, err := strict.Verify(bg, iss.MustMint(t, map[string]any{"exp": clk.Now().Add(11 * time.Minute).Unix()}))
		e := wantRefusal(t, err, bearer.ErrLifetime, 401)
		if !strings.Contains(e.Description, "10m0s allowed") {
			t.Fatalf("description %q", e.Description)
		}
	})
	t.Run("without a Revoker, no bound", func(t *testing.T) {
		plain := newVerifier(t, iss, func(c *bearer.Config) { c.Now = clk.Now })
		if _, err := plain.Verify(bg, iss.MustMint(t, map[string]any{"exp": clk.Now().Add(48 * time.Hour).Unix()})); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInvalidRevocations(t *testing.T) {
	rv := newRevoker(t)
	for _, r := range []bearer.Revocation{
		{},
		{Kind: 9, Issuer: "https://iss", Value: "x"},
		{Kind: bearer.RevokeTokenID, Value: "jti"},
		{Kind: bearer.RevokeTokenID, Issuer: "https://iss"},
		{Kind: bearer.RevokeClientBefore, Issuer: "https://iss", Value: "billing"},
		{Kind: bearer.RevokeToken, Value: "not-a-hash"},
		{Kind: bearer.RevokeToken, Value: strings.ToUpper(bearer.TokenHash("t"))},
		{Kind: bearer.RevokeToken, Issuer: "https://iss", Value: bearer.TokenHash("t")},
		{Kind: bearer.RevokeTokenID, Issuer: "https://iss", Value: strings.Repeat("x", 2000)},
	} {
		if err := rv.Revoke(bg, bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: "https://iss", Value: "fine"}, r); err == nil {
			t.Errorf("accepted %+v", r)
		}
	}
	if n := len(rv.Rules()); n != 0 {
		t.Fatalf("%d rules applied from batches with an invalid rule", n)
	}
}

// A full Revoker refuses new rules, and says so, rather than forget one.
func TestRevokerFull(t *testing.T) {
	rv := newRevoker(t, func(c *bearer.RevokerConfig) { c.MaxRules = 2 })
	var rules []bearer.Revocation
	for i := range 3 {
		rules = append(rules, bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: "https://iss", Value: fmt.Sprint(i)})
	}
	if err := rv.Revoke(bg, rules...); err == nil {
		t.Fatal("a third rule fit in a Revoker of two")
	}
	if len(rv.Rules()) != 2 {
		t.Fatalf("rules %v", rv.Rules())
	}
}

// Opaque tokens, judged by introspection, are revoked by their hash, and
// by the rules on their client or subject like any token.
func TestRevokeIntrospectedTokens(t *testing.T) {
	iss, in := introspecting(t)
	rv := newRevoker(t)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection, c.Revocation = in, rv })
	byHash := iss.MintOpaque(map[string]any{"client_id": "billing"})
	byClient := iss.MintOpaque(map[string]any{"client_id": "reporting"})
	for _, tok := range []string{byHash, byClient} {
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatal(err)
		}
	}
	revoke(t, rv, bearer.Revocation{Kind: bearer.RevokeToken, Value: bearer.TokenHash(byHash)},
		bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: "reporting", Before: time.Now()})
	_, err := v.Verify(bg, byHash)
	wantRevoked(t, err, bearer.RevokeToken)
	_, err = v.Verify(bg, byClient)
	wantRevoked(t, err, bearer.RevokeClientBefore)
	if n := iss.Introspections(); n != 4 {
		t.Fatalf("%d introspections; the revoked tokens' cached answers should have been dropped (want 4)", n)
	}
}

// A MultiVerifier's members purge their own tokens from the cache they
// share, each by its own Revoker.
func TestRevocationInMultiVerifier(t *testing.T) {
	a, b := newIssuer(t), newIssuer(t)
	rv := newRevoker(t)
	m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{
		{Issuer: a.URL(), Audiences: []string{testAudience}, Revocation: rv, Logger: quiet},
		{Issuer: b.URL(), Audiences: []string{testAudience}, Logger: quiet},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ta := a.MustMint(t, map[string]any{"client_id": "billing"})
	tb := b.MustMint(t, map[string]any{"client_id": "billing"})
	for _, tok := range []string{ta, tb} {
		if _, err := m.Verify(bg, tok); err != nil {
			t.Fatal(err)
		}
	}
	revoke(t, rv, bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: a.URL(), Value: "billing", Before: time.Now().Add(time.Second)})
	_, err = m.Verify(bg, ta)
	wantRevoked(t, err, bearer.RevokeClientBefore)
	if _, err := m.Verify(bg, tb); err != nil {
		t.Fatalf("the same client of another issuer: %v", err)
	}
}

// A verification in flight while a rule arrives must not cache the token
// after the rule's purge: the token would then be accepted from the cache.
func TestInFlightVerdictIsNotCachedAcrossRevocation(t *testing.T) {
	iss := newIssuer(t)
	rv := newRevoker(t)
	tok := iss.MustMint(t, map[string]any{"client_id": "billing"})
	var once sync.Once
	// The validator runs after the token was looked up among the rules,
	// before the verdict is cached: there the rule arrives.
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.Revocation = rv
		c.Validators = []bearer.Validator{bearer.ValidatorFunc(func(context.Context, *bearer.Claims) error {
			once.Do(func() {
				revoke(t, rv, bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: "billing", Before: time.Now().Add(time.Second)})
			})
			return nil
		})}
	})
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatalf("the verification in flight: %v", err)
	}
	if n := v.Status().CachedTokens; n != 0 {
		t.Fatalf("%d tokens cached across the revocation", n)
	}
	_, err := v.Verify(bg, tok)
	wantRevoked(t, err, bearer.RevokeClientBefore)
}

// Concurrent requests and revocations: once Revoke returns, no request
// that starts afterwards accepts the revoked token.
func TestRevocationUnderLoad(t *testing.T) {
	iss := newIssuer(t)
	rv := newRevoker(t)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Revocation = rv })
	var toks []string
	for i := range 8 {
		toks = append(toks, iss.MustMint(t, map[string]any{"client_id": fmt.Sprint("client-", i)}))
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := g; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, _ = v.Verify(bg, toks[i%len(toks)])
			}
		})
	}
	for i := range toks {
		time.Sleep(time.Millisecond)
		revoke(t, rv, bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: fmt.Sprint("client-", i), Before: time.Now().Add(time.Second)})
		for range 20 {
			_, err := v.Verify(bg, toks[i])
			wantRevoked(t, err, bearer.RevokeClientBefore)
		}
	}
	close(stop)
	wg.Wait()
}

// A revocation source that fails closed makes every request 503 (cache
// hits included) until it recovers; one that fails open changes nothing
// but the log and the events.
func TestRevocationSourceFailure(t *testing.T) {
	iss := newIssuer(t)
	rec := &heard{}
	rv := newRevoker(t, func(c *bearer.RevokerConfig) { c.Observer = rec })
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Revocation = rv })
	tok := iss.MustMint(t, nil)
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatal(err)
	}
	down := errors.New("connection refused")
	rv.SourceFailed("redis", down, false)
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatalf("failing open: %v", err)
	}
	rv.SourceFailed("redis", down, true)
	for _, tk := range []string{tok, iss.MustMint(t, nil)} { // a cache hit, then a miss
		_, err := v.Verify(bg, tk)
		e := wantRefusal(t, err, bearer.ErrRevocationsUnavailable, 503)
		if e.RetryAfter <= 0 || !errors.Is(err, down) || bearer.Reason(err) != "revocations_unavailable" {
			t.Fatalf("refusal %+v", e)
		}
		if h := v.Response(err); h.Status != 503 || h.Header.Get("Retry-After") == "" || h.Header.Get("WWW-Authenticate") != "" {
			t.Fatalf("answer %+v", h)
		}
	}
	rv.SourceRecovered("redis")
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	kinds := rec.kinds()
	if kinds[bearer.EventRevocationSourceFailed] != 2 || kinds[bearer.EventRevocationSourceRecovered] != 1 {
		t.Fatalf("events %v", kinds)
	}
}

// Each rule that covers more than before is an event, once.
func TestRevocationEvents(t *testing.T) {
	rec := &heard{}
	rv := newRevoker(t, func(c *bearer.RevokerConfig) { c.Observer = rec })
	rule := bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: "https://iss", Value: "billing", Before: time.Now(), Source: "api"}
	revoke(t, rv, rule)
	revoke(t, rv, rule)
	got := rec.of(bearer.EventRevocationReceived)
	if len(got) != 1 || got[0].Source != "api" || got[0].Issuer != "https://iss" || got[0].Revocation == nil || got[0].Revocation.Value != "billing" {
		t.Fatalf("events %+v", got)
	}
	if bearer.EventRevocationReceived.String() != "revocation_received" {
		t.Fatal(bearer.EventRevocationReceived.String())
	}
}

// A Revoker holds its verifiers weakly: one nobody uses is not kept alive.
func TestRevokerDoesNotKeepVerifiers(t *testing.T) {
	iss := newIssuer(t)
	rv := newRevoker(t)
	for range 100 {
		newVerifier(t, iss, func(c *bearer.Config) { c.Revocation = rv })
	}
	revoke(t, rv, bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "x"})
}

// heard records what an Observer hears.
type heard struct {
	mu  sync.Mutex
	all []bearer.Event
}

func (h *heard) Observe(ev bearer.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append(h.all, ev)
}

func (h *heard) of(k bearer.EventKind) []bearer.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []bearer.Event
	for _, ev := range h.all {
		if ev.Kind == k {
			out = append(out, ev)
		}
	}
	return out
}

func (h *heard) kinds() map[bearer.EventKind]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := map[bearer.EventKind]int{}
	for _, ev := range h.all {
		out[ev.Kind]++
	}
	return out
}
