package bearer_test

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

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/internal/sealedentry"
)

// secret holds every character that form encoding and Basic must carry.
const introspectionSecret = "s3cr:t+/ %&=?#"

func introspecting(t *testing.T, opts ...bearertest.Option) (*bearertest.Issuer, *bearer.Introspection) {
	t.Helper()
	iss := newIssuer(t, append([]bearertest.Option{bearertest.WithClient("country-api", introspectionSecret)}, opts...)...)
	return iss, &bearer.Introspection{ClientID: "country-api", ClientSecret: introspectionSecret}
}

func TestOpaqueTokensAreIntrospected(t *testing.T) {
	for _, inForm := range []bool{false, true} {
		t.Run(fmt.Sprint("secret in form ", inForm), func(t *testing.T) {
			iss, in := introspecting(t)
			in.SecretInForm = inForm
			v := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection = in })
			tok := iss.MintOpaque(map[string]any{"scope": "country.read", "client_id": "billing"})
			for range 3 {
				c, err := v.Verify(bg, tok)
				if err != nil {
					t.Fatal(err)
				}
				if !c.HasScope("country.read") || c.ClientID != "billing" || c.Issuer != iss.URL() {
					t.Fatalf("claims %+v", c)
				}
			}
			if n := iss.Introspections(); n != 1 {
				t.Fatalf("%d introspections for one token; want 1", n)
			}
			// JWTs are still verified locally.
			if _, err := v.Verify(bg, iss.MustMint(t, nil)); err != nil || iss.Introspections() != 1 {
				t.Fatalf("JWT: %v, %d introspections", err, iss.Introspections())
			}
		})
	}
}

// A revoked token is refused once the cached answer is older than MaxAge;
// an inactive answer is remembered for InactiveFor only.
func TestRevocationAndInactiveAnswers(t *testing.T) {
	clk := newClock()
	iss, in := introspecting(t, bearertest.WithClock(clk.Now))
	in.MaxAge, in.InactiveFor = 30*time.Second, 5*time.Second
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection, c.Now = in, clk.Now })
	tok := iss.MintOpaque(nil)
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatal(err)
	}
	iss.Revoke(tok)
	clk.Advance(20 * time.Second)
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatalf("within MaxAge: %v", err)
	}
	clk.Advance(11 * time.Second)
	_, err := v.Verify(bg, tok)
	wantRefusal(t, err, bearer.ErrInactive, 401)
	if n := iss.Introspections(); n != 2 {
		t.Fatalf("%d introspections; want 2", n)
	}
	for range 5 {
		wantRefusal(t, verifyErr(v, tok), bearer.ErrInactive, 401)
		wantRefusal(t, verifyErr(v, "junk-token"), bearer.ErrInactive, 401)
	}
	if n := iss.Introspections(); n != 3 {
		t.Fatalf("%d introspections; inactive answers must be remembered", n)
	}
	clk.Advance(6 * time.Second)
	wantRefusal(t, verifyErr(v, "junk-token"), bearer.ErrInactive, 401)
	if n := iss.Introspections(); n != 4 {
		t.Fatalf("%d introspections; want a new one after InactiveFor", n)
	}
}

func TestConcurrentIntrospectionsCollapse(t *testing.T) {
	iss, in := introspecting(t)
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		resp, err := http.Post(iss.IntrospectionURL(), r.Header.Get("Content-Type"), r.Body)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(slow.Close)
	in.URL, in.SecretInForm = slow.URL, true
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection = in })
	tok := iss.MintOpaque(nil)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 50 {
		wg.Go(func() {
			if _, err := v.Verify(bg, tok); err != nil {
				failed.Add(1)
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	close(release)
	wg.Wait()
	if failed.Load() != 0 || iss.Introspections() != 1 {
		t.Fatalf("%d failed, %d introspections; want 0 and 1", failed.Load(), iss.Introspections())
	}
}

// answerServer is an introspection endpoint that answers what a test says.
func answerServer(t *testing.T, answer func(w http.ResponseWriter)) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); !ok || id != "country-api" || secret != "s3cr%3At%2B%2F+%25%26%3D%3F%23" {
			t.Errorf("Basic credentials %q %q %v", id, secret, ok)
		}
		answer(w)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestIntrospectionAnswersAreJudged(t *testing.T) {
	iss := newIssuer(t)
	exp := time.Now().Add(time.Hour).Unix()
	for _, tc := range []struct {
		name     string
		answer   string
		sentinel error
		status   int
	}{
		{"active", `{"active":true,"aud":"country-api","exp":%d}`, nil, 200},
		{"active, no iss", `{"active":true,"aud":["x","country-api"],"scope":"a","exp":%d}`, nil, 200},
		{"inactive", `{"active":false}`, bearer.ErrInactive, 401},
		{"active as a string", `{"active":"true","aud":"country-api","exp":%d}`, bearer.ErrInactive, 401},
		{"other audience", `{"active":true,"aud":"other-api","exp":%d}`, bearer.ErrAudience, 401},
		{"no audience", `{"active":true,"exp":%d}`, bearer.ErrAudience, 401},
		{"other issuer", `{"active":true,"iss":"https://evil.example","aud":"country-api","exp":%d}`, bearer.ErrIssuer, 401},
		{"expired", `{"active":true,"aud":"country-api","exp":1000}`, bearer.ErrExpired, 401},
		{"refresh token", `{"active":true,"aud":"country-api","token_type":"refresh_token","exp":%d}`, bearer.ErrType, 401},
		{"Hydra refresh token", `{"active":true,"aud":"country-api","token_use":"refresh_token","exp":%d}`, bearer.ErrType, 401},
		{"DPoP-bound", `{"active":true,"aud":"country-api","cnf":{"jkt":"x"},"exp":%d}`, bearer.ErrSenderConstrained, 401},
		{"repeated member", `{"active":true,"aud":"country-api","aud":"other","exp":%d}`, bearer.ErrIssuerUnavailable, 503},
		{"not JSON", `<html>`, bearer.ErrIssuerUnavailable, 503},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.answer
			if strings.Contains(body, "%d") {
				body = fmt.Sprintf(body, exp)
			}
			url := answerServer(t, func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, body)
			})
			v := newVerifier(t, iss, func(c *bearer.Config) {
				c.Introspection = &bearer.Introspection{URL: url, ClientID: "country-api", ClientSecret: introspectionSecret}
			})
			_, err := v.Verify(bg, "opaque-token")
			if tc.sentinel == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantRefusal(t, err, tc.sentinel, tc.status)
		})
	}
}

// Anything but a timely 200 JSON answer is an outage: 503, and nothing
// remembered, so the token is accepted once the issuer is back.
func TestIntrospectionOutages(t *testing.T) {
	iss := newIssuer(t)
	var mode atomic.Value
	url := answerServer(t, func(w http.ResponseWriter) {
		switch mode.Load() {
		case "500":
			http.Error(w, "oops", http.StatusInternalServerError)
		case "429":
			w.Header().Set("Retry-After", "7")
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case "html":
			w.Header().Set("Content-Type", "text/html")
			_, _ = io.WriteString(w, `{"active":true}`)
		case "huge":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"active":true,"pad":"`+strings.Repeat("x", 70<<10)+`"}`)
		case "slow":
			time.Sleep(300 * time.Millisecond)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = fmt.Fprintf(w, `{"active":true,"aud":"country-api","exp":%d}`, time.Now().Add(time.Hour).Unix())
		}
	})
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.Introspection = &bearer.Introspection{URL: url, ClientID: "country-api", ClientSecret: introspectionSecret, Timeout: 100 * time.Millisecond}
	})
	for _, m := range []string{"500", "429", "html", "huge", "slow"} {
		mode.Store(m)
		e := wantRefusal(t, verifyErr(v, "opaque-token"), bearer.ErrIssuerUnavailable, 503)
		if m == "429" && e.RetryAfter != 7*time.Second {
			t.Errorf("429: RetryAfter %v; want the issuer's 7s", e.RetryAfter)
		}
	}
	mode.Store("ok")
	if _, err := v.Verify(bg, "opaque-token"); err != nil {
		t.Fatalf("after the outage: %v", err)
	}
}

// mapCache is a SharedCache in memory, standing in for Redis; fail makes
// every call fail.
type mapCache struct {
	mu   sync.Mutex
	m    map[string][]byte
	fail bool
}

func (c *mapCache) Get(_ context.Context, key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return nil, false, errors.New("connection refused")
	}
	v, ok := c.m[key]
	return v, ok, nil
}

func (c *mapCache) Set(_ context.Context, key string, value []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return errors.New("connection refused")
	}
	if ttl <= 0 {
		return errors.New("no ttl")
	}
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[key] = value
	return nil
}

// Replicas sharing a cache ask the issuer once per token; a cache outage
// only costs them their sharing.
func TestSharedIntrospectionCache(t *testing.T) {
	iss, in := introspecting(t)
	shared := &mapCache{}
	in.Shared = shared
	obs := &eventLog{}
	replica := func() *bearer.Verifier {
		return newVerifier(t, iss, func(c *bearer.Config) { c.Introspection, c.Observer = in, obs })
	}
	a, b := replica(), replica()
	tok := iss.MintOpaque(nil)
	for _, v := range []*bearer.Verifier{a, b, a, b} {
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.Introspections(); n != 1 {
		t.Fatalf("%d introspections by two replicas; want 1", n)
	}
	for key := range shared.m {
		if strings.Contains(key, tok) {
			t.Fatal("the shared cache key holds the token")
		}
	}
	shared.fail = true
	tok2 := iss.MintOpaque(nil)
	if _, err := a.Verify(bg, tok2); err != nil {
		t.Fatalf("with the shared cache down: %v", err)
	}
	if len(obs.of(bearer.EventSharedCacheFailed)) == 0 {
		t.Fatal("the shared cache failure was not reported")
	}
}

// A replica that reads an answer from the shared cache uses it only for
// what is left of the MaxAge its asker gave it: a token revoked just after
// one replica asked is refused by every replica MaxAge later, not up to
// twice that.
func TestSharedAnswerKeepsItsExpiry(t *testing.T) {
	clk := newClock()
	iss, in := introspecting(t, bearertest.WithClock(clk.Now))
	in.MaxAge, in.InactiveFor = 30*time.Second, 5*time.Second
	in.Shared = &mapCache{} // keeps entries past their TTL: the value's own expiry must hold
	replica := func() *bearer.Verifier {
		return newVerifier(t, iss, func(c *bearer.Config) { c.Introspection, c.Now = in, clk.Now })
	}
	a, b := replica(), replica()
	tok := iss.MintOpaque(nil)
	if _, err := a.Verify(bg, tok); err != nil {
		t.Fatal(err)
	}
	iss.Revoke(tok)
	clk.Advance(25 * time.Second)
	if _, err := b.Verify(bg, tok); err != nil {
		t.Fatalf("within the shared answer's MaxAge: %v", err)
	}
	clk.Advance(10 * time.Second)
	for _, v := range []*bearer.Verifier{a, b} {
		wantRefusal(t, verifyErr(v, tok), bearer.ErrInactive, 401)
	}
	if n := iss.Introspections(); n != 2 {
		t.Fatalf("%d introspections; want 2 (the first, and the one whose inactive answer both replicas share)", n)
	}
}

// With AllTokens, JWTs go to the issuer too: one the issuer does not
// vouch for is refused however well it is signed.
func TestIntrospectAllTokens(t *testing.T) {
	iss, in := introspecting(t)
	in.AllTokens = true
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection = in })
	wantRefusal(t, verifyErr(v, iss.MustMint(t, nil)), bearer.ErrInactive, 401)
	if _, err := v.Verify(bg, iss.MintOpaque(nil)); err != nil {
		t.Fatal(err)
	}
}

func TestIntrospectionConfigIsChecked(t *testing.T) {
	for _, in := range []*bearer.Introspection{
		{ClientID: "api"},
		{ClientSecret: "s"},
		{ClientID: "api", ClientSecret: "s", URL: "http://idp.example.com/introspect"},
		{ClientID: "api", ClientSecret: "s", MaxAge: -time.Second},
	} {
		if _, err := bearer.New(bearer.Config{Issuer: "https://idp.example.com", Audiences: []string{"api"}, Introspection: in}); err == nil {
			t.Errorf("accepted %+v", in)
		}
	}
}

// tenantKey carries, in a request's context, the tenants its route
// accepts: a validator that depends on the request, not on the token alone.
type tenantKey struct{}

var tenantAllowList = bearer.ValidatorFunc(func(ctx context.Context, c *bearer.Claims) error {
	allowed, _ := ctx.Value(tenantKey{}).([]string)
	for _, t := range allowed {
		if t == c.TenantID {
			return nil
		}
	}
	return bearer.NewInvalidToken("the token's tenant is not accepted on this route")
})

// Requests that wait for one introspection share the issuer's answer, not
// the verdict: each is validated with its own context, whether the first
// asker was accepted or refused.
func TestJoinedIntrospectionsAreValidatedEach(t *testing.T) {
	for _, firstAllowed := range []bool{true, false} {
		t.Run(fmt.Sprint("first asker allowed ", firstAllowed), func(t *testing.T) {
			iss, in := introspecting(t)
			asked, release := make(chan struct{}, 1), make(chan struct{})
			slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				asked <- struct{}{}
				<-release
				resp, err := http.Post(iss.IntrospectionURL(), r.Header.Get("Content-Type"), r.Body)
				if err != nil {
					t.Error(err)
					return
				}
				defer resp.Body.Close()
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.Copy(w, resp.Body)
			}))
			t.Cleanup(slow.Close)
			in.URL, in.SecretInForm = slow.URL, true
			v := newVerifier(t, iss, func(c *bearer.Config) {
				c.Introspection, c.Validators = in, []bearer.Validator{tenantAllowList}
			})
			tok := iss.MintOpaque(map[string]any{"tid": "acme"})
			allowed := context.WithValue(bg, tenantKey{}, []string{"acme"})
			other := context.WithValue(bg, tenantKey{}, []string{"globex"})
			firstCtx, restCtx := allowed, other
			if !firstAllowed {
				firstCtx, restCtx = other, allowed
			}
			first := make(chan error, 1)
			go func() { _, err := v.Verify(firstCtx, tok); first <- err }()
			<-asked // the first request's introspection is under way
			var wg sync.WaitGroup
			errs := make([]error, 20)
			for i := range errs {
				wg.Go(func() { _, errs[i] = v.Verify(restCtx, tok) })
			}
			time.Sleep(100 * time.Millisecond) // let them join it
			close(release)
			wg.Wait()
			check := func(err error, allowed bool) {
				t.Helper()
				if allowed && err != nil {
					t.Fatalf("refused a request its validator accepts: %v", err)
				}
				if !allowed {
					wantRefusal(t, err, bearer.ErrClaim, 401)
				}
			}
			check(<-first, firstAllowed)
			for _, err := range errs {
				check(err, !firstAllowed)
			}
			if n := iss.Introspections(); n != 1 {
				t.Fatalf("%d introspections; want 1 shared by every request", n)
			}
			// The answer is remembered whatever the first request's
			// validator said; later requests are validated on their own.
			check(verifyErrCtx(allowed, v, tok), true)
			check(verifyErrCtx(other, v, tok), false)
			if n := iss.Introspections(); n != 1 {
				t.Fatalf("%d introspections; want the answer remembered", n)
			}
		})
	}
}

func verifyErrCtx(ctx context.Context, v *bearer.Verifier, tok string) error {
	_, err := v.Verify(ctx, tok)
	return err
}

// MaxTokenLifetime and StrictRFC9068 hold for introspected tokens as for
// JWTs: the answer must show the lifetime and the claims they ask for, and
// a JWT sent to the issuer (AllTokens) must have RFC 9068's typ, which is
// checked before any call.
func TestStricterProfilesApplyToIntrospection(t *testing.T) {
	iss, in := introspecting(t)
	now := time.Now()
	lifetime := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection, c.MaxTokenLifetime = in, time.Hour })
	strict := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection, c.StrictRFC9068 = in, true })
	for _, tc := range []struct {
		name     string
		v        *bearer.Verifier
		claims   map[string]any
		sentinel error
	}{
		{"lifetime within", lifetime, map[string]any{"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}, nil},
		{"lifetime too long", lifetime, map[string]any{"iat": now.Unix(), "exp": now.Add(25 * time.Hour).Unix()}, bearer.ErrLifetime},
		{"lifetime without iat", lifetime, map[string]any{"iat": nil}, bearer.ErrLifetime},
		{"lifetime without exp", lifetime, map[string]any{"exp": nil}, bearer.ErrLifetime},
		{"issued in the future", lifetime, map[string]any{"iat": now.Add(time.Hour).Unix(), "exp": now.Add(90 * time.Minute).Unix()}, bearer.ErrNotYetValid},
		{"RFC 9068 complete", strict, nil, nil},
		{"RFC 9068 without jti", strict, map[string]any{"jti": nil}, bearer.ErrMalformed},
		{"RFC 9068 without sub", strict, map[string]any{"sub": nil}, bearer.ErrMalformed},
		{"RFC 9068 without client_id", strict, map[string]any{"client_id": nil}, bearer.ErrMalformed},
		{"RFC 9068 without iat", strict, map[string]any{"iat": nil}, bearer.ErrMalformed},
		{"RFC 9068 without exp", strict, map[string]any{"exp": nil}, bearer.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.v.Verify(bg, iss.MintOpaque(tc.claims))
			if tc.sentinel == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantRefusal(t, err, tc.sentinel, 401)
		})
	}

	all := *in
	all.AllTokens = true
	for _, edit := range []func(*bearer.Config){
		func(c *bearer.Config) { c.StrictRFC9068 = true },
		func(c *bearer.Config) { c.RequireAccessTokenType = true },
	} {
		v := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection = &all }, edit)
		before := iss.Introspections()
		for _, typ := range []any{"JWT", nil} {
			wantRefusal(t, verifyErr(v, iss.MustMint(t, nil, bearertest.WithHeader("typ", typ))), bearer.ErrType, 401)
		}
		if n := iss.Introspections() - before; n != 0 {
			t.Fatalf("%d introspections of JWTs whose typ is refused", n)
		}
		// at+jwt is asked about (and, a JWT unknown to the test issuer's
		// introspection, called inactive).
		wantRefusal(t, verifyErr(v, iss.MustMint(t, nil)), bearer.ErrInactive, 401)
		if n := iss.Introspections() - before; n != 1 {
			t.Fatalf("%d introspections; want 1", n)
		}
	}
}

// A shared answer is used by each replica for its own MaxAge from when the
// issuer gave it, whatever MaxAge the replica that asked had: a token
// revoked ten minutes ago is not accepted by a replica whose MaxAge is a
// second because another kept answers for an hour.
func TestSharedAnswerIsBoundByReadersMaxAge(t *testing.T) {
	clk := newClock()
	iss, in := introspecting(t, bearertest.WithClock(clk.Now))
	in.Shared = &mapCache{} // keeps entries past their TTL: the value's own time must hold
	patient, strict := *in, *in
	patient.MaxAge, strict.MaxAge = time.Hour, time.Second
	a := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection, c.Now = &patient, clk.Now })
	b := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection, c.Now = &strict, clk.Now })
	tok := iss.MintOpaque(map[string]any{"exp": clk.Now().Add(2 * time.Hour).Unix()})
	if _, err := a.Verify(bg, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(bg, tok); err != nil {
		t.Fatalf("within both MaxAges: %v", err)
	}
	if n := iss.Introspections(); n != 1 {
		t.Fatalf("%d introspections; want the answer shared", n)
	}
	iss.Revoke(tok)
	clk.Advance(10 * time.Minute)
	wantRefusal(t, verifyErr(b, tok), bearer.ErrInactive, 401)
	if n := iss.Introspections(); n != 2 {
		t.Fatalf("%d introspections; want a second one, past the reader's MaxAge", n)
	}
}

// Answers are shared between verifiers that ask the same endpoint as the
// same client only: RFC 7662 §2.2 lets an issuer tailor its answer to the
// client asking.
func TestSharedAnswersAreKeyedByEndpointAndClient(t *testing.T) {
	iss, in := introspecting(t, bearertest.WithClient("billing-api", introspectionSecret))
	shared := &mapCache{}
	in.Shared = shared
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequest(http.MethodPost, iss.IntrospectionURL(), r.Body)
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(proxy.Close)
	billing, elsewhere, explicit := *in, *in, *in
	billing.ClientID = "billing-api"
	elsewhere.URL = proxy.URL
	explicit.URL = iss.IntrospectionURL() // the endpoint discovery finds
	tok := iss.MintOpaque(nil)
	for _, cfg := range []*bearer.Introspection{in, &billing, &elsewhere, &explicit} {
		v := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection = cfg })
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.Introspections(); n != 3 || len(shared.m) != 3 {
		t.Fatalf("%d introspections, %d entries; want 3 of each: one per endpoint and client", n, len(shared.m))
	}
}

// Whoever can write the shared cache but lacks the fleet's key cannot make
// a token active: an entry made up, altered, sealed with another key or
// moved from another token's name is ignored, reported, and the issuer is
// asked.
func TestForgedSharedEntriesAreIgnored(t *testing.T) {
	iss, in := introspecting(t)
	shared := &mapCache{}
	in.Shared = shared
	obs := &eventLog{}
	replica := func() *bearer.Verifier {
		return newVerifier(t, iss, func(c *bearer.Config) { c.Introspection, c.Observer = in, obs })
	}
	a := replica()
	active := iss.MintOpaque(nil)
	if _, err := a.Verify(bg, active); err != nil {
		t.Fatal(err)
	}
	activeName := onlyKey(t, shared)
	authentic := shared.m[activeName]
	const junk = "junk-token"
	wantRefusal(t, verifyErr(a, junk), bearer.ErrInactive, 401)
	delete(shared.m, activeName)
	junkName := onlyKey(t, shared)
	shared.m[activeName] = authentic

	exp := time.Now().Add(time.Hour)
	answer := fmt.Sprintf(`{"active":true,"iss":%q,"aud":"country-api","exp":%d,"scope":"admin"}`, iss.URL(), exp.Unix())
	nanos := func(t time.Time) string { return fmt.Sprint(t.UnixNano()) }
	alter := func(v []byte, from, to string) []byte { return []byte(strings.Replace(string(v), from, to, 1)) }
	for _, tc := range []struct {
		name  string
		value []byte
	}{
		{"made up, in the former format", []byte(nanos(exp) + "\n" + answer)},
		{"made up, in this format", []byte("b1." + nanos(time.Now()) + "." + strings.Repeat("A", 43) + "\n" + answer)},
		{"another token's entry", authentic},
		{"another token's entry, altered", alter(authentic, `"active":true`, `"active":true `)},
		{"sealed with another key", sealedentry.Seal(sealedentry.DeriveKey([]byte("another secret"), "introspection\x00country-api"), junkName, time.Now().UnixNano(), []byte(answer))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shared.m[junkName] = tc.value
			before, reported := iss.Introspections(), len(obs.of(bearer.EventSharedCacheFailed))
			wantRefusal(t, verifyErr(replica(), junk), bearer.ErrInactive, 401)
			if iss.Introspections() != before+1 {
				t.Fatal("the issuer was not asked")
			}
			if len(obs.of(bearer.EventSharedCacheFailed)) == reported {
				t.Fatal("the forged entry was not reported")
			}
		})
	}
	// An authentic entry still serves every replica.
	before := iss.Introspections()
	if _, err := replica().Verify(bg, active); err != nil || iss.Introspections() != before {
		t.Fatalf("authentic entry: %v, %d introspections", err, iss.Introspections()-before)
	}
}

// onlyKey is the one key of c.
func onlyKey(t *testing.T, c *mapCache) string {
	t.Helper()
	if len(c.m) != 1 {
		t.Fatalf("%d entries; want 1", len(c.m))
	}
	for k := range c.m {
		return k
	}
	return ""
}

// Replicas given one SharedKey share answers; replicas with different
// keys do not, and a key too short to be random is refused.
func TestSharedKey(t *testing.T) {
	iss, in := introspecting(t)
	in.Shared = &mapCache{}
	withKey := func(key string) *bearer.Verifier {
		cfg := *in
		cfg.SharedKey = []byte(key)
		return newVerifier(t, iss, func(c *bearer.Config) { c.Introspection = &cfg })
	}
	one, other := strings.Repeat("k", 32), strings.Repeat("x", 40)
	tok := iss.MintOpaque(nil)
	for _, v := range []*bearer.Verifier{withKey(one), withKey(one), withKey(other)} {
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.Introspections(); n != 2 {
		t.Fatalf("%d introspections; want 2: one per key", n)
	}
	cfg := *in
	cfg.SharedKey = make([]byte, 31)
	if _, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Introspection: &cfg}); err == nil {
		t.Fatal("accepted a 31-byte SharedKey")
	}
}

// The introspection request carries the token and the API's credentials:
// a redirect to another origin is not followed, AllowRedirectsAcrossOrigins
// notwithstanding (it is for discovery and key fetches), and the token is
// judged an outage.
func TestIntrospectionStaysOnItsOrigin(t *testing.T) {
	iss, in := introspecting(t)
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"active":true,"aud":"country-api"}`)
	}))
	t.Cleanup(other.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/introspect", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	in.URL, in.SecretInForm = redirecting.URL, true
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Introspection, c.AllowRedirectsAcrossOrigins = in, true })
	wantRefusal(t, verifyErr(v, iss.MintOpaque(nil)), bearer.ErrIssuerUnavailable, 503)
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the token and secret were re-posted to another origin %d times", n)
	}
}
