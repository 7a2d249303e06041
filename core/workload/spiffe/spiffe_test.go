package spiffe_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/internal/tokenfixture"
	"github.com/bouncer-go/bouncer/core/workload/spiffe"
)

var (
	bg    = context.Background()
	quiet = slog.New(slog.DiscardHandler)
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bundle writes a SPIFFE bundle of keys as SPIRE does: use jwt-svid, a
// kid, no alg.
func bundle(t *testing.T, seq int, keys ...*bearertest.Key) []byte {
	t.Helper()
	set := []any{}
	for _, k := range keys {
		jwk := k.PublicJWK()
		jwk["use"] = "jwt-svid"
		delete(jwk, "alg")
		set = append(set, jwk)
	}
	b, err := json.Marshal(map[string]any{"keys": set, "spiffe_sequence": seq, "spiffe_refresh_hint": 300})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// writeFile replaces path with b by renaming a complete file over it, as
// an agent replacing a bundle should.
func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func key(t *testing.T) *bearertest.Key {
	t.Helper()
	k, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

type fixture struct {
	clk  *clock
	iss  *bearertest.Issuer // mints only: its own keys and endpoints are not used
	file string
	v    *bearer.Verifier
}

func newFixture(t *testing.T, first []byte, edit ...func(*spiffe.Config)) *fixture {
	t.Helper()
	f := &fixture{clk: &clock{t: time.Now()}}
	var err error
	if f.iss, err = bearertest.NewIssuer(bearertest.WithClock(f.clk.Now), bearertest.WithTokenAlg("ES256")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.iss.Close)
	f.file = filepath.Join(t.TempDir(), "bundle.json")
	writeFile(t, f.file, first)
	cfg := spiffe.Config{TrustDomain: "example.org", Audiences: []string{"spiffe://example.org/orders"}, Bundles: spiffe.BundleFile(f.file)}
	for _, e := range edit {
		e(&cfg)
	}
	bc, err := cfg.Bearer()
	if err != nil {
		t.Fatal(err)
	}
	bc.Logger, bc.Now = quiet, f.clk.Now
	if f.v, err = bearer.New(bc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.v.Close() })
	return f
}

// svid mints a JWT-SVID signed by k, shaped as SPIRE shapes them.
func (f *fixture) svid(t *testing.T, k *bearertest.Key, sub string, set ...map[string]any) string {
	t.Helper()
	claims := map[string]any{"iss": nil, "jti": nil, "client_id": nil, "sub": sub, "aud": []string{"spiffe://example.org/orders"}}
	for _, s := range set {
		for n, v := range s {
			claims[n] = v
		}
	}
	return f.iss.MustMint(t, claims, bearertest.WithKey(k), bearertest.WithHeader("typ", "JWT"))
}

func (f *fixture) verify(tok string) (*bearer.Claims, error) { return f.v.Verify(bg, tok) }

func wantRefused(t *testing.T, err error, sentinel error) *bearer.Error {
	t.Helper()
	var e *bearer.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &e) {
		t.Fatalf("err = %v; want %v", err, sentinel)
	}
	return e
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

const web = "spiffe://example.org/ns/shop/sa/web"

// The bundle file is read again on the key schedule: a key added to it
// verifies at once, a bad or deleted file keeps the last good keys (and
// says so in Status), and a key removed from it stops verifying within
// the check interval.
func TestBundleFileRotation(t *testing.T) {
	k1, k2 := key(t), key(t)
	f := newFixture(t, bundle(t, 1, k1))
	if c, err := f.verify(f.svid(t, k1, web)); err != nil {
		t.Fatal(err)
	} else if c.ClientID != web || c.Issuer != "" {
		t.Errorf("ClientID %q, Issuer %q", c.ClientID, c.Issuer)
	}

	// Rotation: k2 joins. Its first token finds it (once the unknown-kid
	// cooldown allows a look).
	writeFile(t, f.file, bundle(t, 2, k1, k2))
	f.clk.Advance(11 * time.Second)
	if _, err := f.verify(f.svid(t, k2, web)); err != nil {
		t.Fatalf("a key added to the bundle: %v", err)
	}

	// A bad file: the last good keys stay, and the failure is reported.
	for name, bad := range map[string][]byte{
		"garbage":         []byte("{not json"),
		"no keys member":  []byte(`{"spiffe_sequence":3}`),
		"jwt key w/o kid": []byte(`{"keys":[{"use":"jwt-svid","kty":"EC"}]}`),
	} {
		before := f.v.Status().Failures
		writeFile(t, f.file, bad)
		f.clk.Advance(spiffe.BundleCheckInterval + 5*time.Second)
		if _, err := f.verify(f.svid(t, k1, web)); err != nil {
			t.Fatalf("%s: the last good keys were dropped: %v", name, err)
		}
		waitFor(t, func() bool { return f.v.Status().Failures > before }) // this step's read failed
		if st := f.v.Status(); !st.Ready || st.Keys != 2 || !errors.Is(st.LastError, spiffe.ErrBundle) {
			t.Fatalf("%s: status %+v", name, st)
		}
	}

	// Deleted: the same.
	before := f.v.Status().Failures
	if err := os.Remove(f.file); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(spiffe.BundleCheckInterval + 5*time.Second)
	if _, err := f.verify(f.svid(t, k2, web)); err != nil {
		t.Fatalf("deleted: the last good keys were dropped: %v", err)
	}
	waitFor(t, func() bool { return f.v.Status().Failures > before })
	if st := f.v.Status(); !st.Ready || st.Keys != 2 || !errors.Is(st.LastError, os.ErrNotExist) {
		t.Fatalf("deleted: status %+v", st)
	}

	// Back, without k1: k1's tokens are refused after the next check, its
	// cached verdicts included.
	writeFile(t, f.file, bundle(t, 4, k2))
	f.clk.Advance(spiffe.BundleCheckInterval + 5*time.Second)
	_, _ = f.verify(f.svid(t, k2, web)) // starts the check
	waitFor(t, func() bool { return f.v.Status().Keys == 1 })
	wantRefused(t, errOf(f.verify(f.svid(t, k1, web))), bearer.ErrUnknownKey)
	if _, err := f.verify(f.svid(t, k2, web)); err != nil {
		t.Fatal(err)
	}

	// An empty bundle is the trust domain withdrawing every key.
	writeFile(t, f.file, []byte(`{"keys":[],"spiffe_sequence":5}`))
	f.clk.Advance(spiffe.BundleCheckInterval + 5*time.Second)
	_, _ = f.verify(f.svid(t, k2, web))
	waitFor(t, func() bool { return f.v.Status().Keys == 0 && f.v.Status().Failures == 0 })
	wantRefused(t, errOf(f.verify(f.svid(t, k2, web))), bearer.ErrUnknownKey)
}

func errOf(_ *bearer.Claims, err error) error { return err }

// sub must be a SPIFFE ID of the trust domain whose keys signed it.
func TestSubject(t *testing.T) {
	k := key(t)
	f := newFixture(t, bundle(t, 1, k))
	for _, sub := range []string{"spiffe://other.org/ns/shop/sa/web", "spiffe://example.org.evil/x", "spiffe://example.org/ns/", "system:serviceaccount:shop:web", "spiffe://EXAMPLE.org/x"} {
		e := wantRefused(t, errOf(f.verify(f.svid(t, k, sub))), bearer.ErrClaim)
		if e.StatusCode() != 401 || !strings.Contains(e.Description, "example.org") {
			t.Errorf("sub %q: %d %q", sub, e.StatusCode(), e.Description)
		}
	}
	wantRefused(t, errOf(f.verify(f.svid(t, k, "", map[string]any{"sub": nil}))), bearer.ErrClaim)
	if _, err := f.verify(f.svid(t, k, "spiffe://example.org")); err != nil {
		t.Errorf("the trust domain's own ID: %v", err)
	}
}

// The rest of the JWT-SVID rules: aud and exp required, JWT-SVID
// algorithms only, iss absent or the configured one.
func TestJWTSVIDRules(t *testing.T) {
	k := key(t)
	f := newFixture(t, bundle(t, 1, k))
	wantRefused(t, errOf(f.verify(f.svid(t, k, web, map[string]any{"aud": nil}))), bearer.ErrAudience)
	wantRefused(t, errOf(f.verify(f.svid(t, k, web, map[string]any{"aud": "spiffe://example.org/billing"}))), bearer.ErrAudience)
	wantRefused(t, errOf(f.verify(f.svid(t, k, web, map[string]any{"exp": nil}))), bearer.ErrMalformed)
	wantRefused(t, errOf(f.verify(f.svid(t, k, web, map[string]any{"iss": "https://oidc.example.org"}))), bearer.ErrIssuer)

	ed, err := bearertest.NewKey("EdDSA")
	if err != nil {
		t.Fatal(err)
	}
	g := newFixture(t, bundle(t, 1, ed))
	wantRefused(t, errOf(g.verify(g.svid(t, ed, web))), bearer.ErrAlgorithm)

	h := newFixture(t, bundle(t, 1, k), func(c *spiffe.Config) { c.Issuer = "https://oidc.example.org" })
	for _, iss := range []any{nil, "https://oidc.example.org"} {
		if _, err := h.verify(h.svid(t, k, web, map[string]any{"iss": iss})); err != nil {
			t.Errorf("iss %v with Config.Issuer set: %v", iss, err)
		}
	}
	wantRefused(t, errOf(h.verify(h.svid(t, k, web, map[string]any{"iss": "spiffe://example.org"}))), bearer.ErrIssuer)
}

func TestPolicies(t *testing.T) {
	k := key(t)
	f := newFixture(t, bundle(t, 1, k))
	claims := func(sub string) *bearer.Claims {
		t.Helper()
		c, err := f.verify(f.svid(t, k, sub))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	checkout, shopping, web := claims("spiffe://example.org/ns/shop/sa/checkout"), claims("spiffe://example.org/ns/shopping/sa/x"), claims(web)
	id := spiffe.MustParseID
	exact := spiffe.RequireID(id("spiffe://example.org/ns/shop/sa/checkout"), spiffe.ID{})
	member := spiffe.RequireMemberOf(id("spiffe://example.org/ns/shop"))
	for _, c := range []struct {
		p    bearer.Policy
		c    *bearer.Claims
		want bool
	}{
		{exact, checkout, true}, {exact, web, false}, {exact, shopping, false},
		{member, checkout, true}, {member, web, true}, {member, shopping, false},
		{spiffe.RequireMemberOf(id("spiffe://other.org")), web, false},
		{spiffe.RequireMemberOf(), web, false}, {spiffe.RequireID(), web, false},
		{spiffe.RequireMemberOf(spiffe.ID{}), web, false},
	} {
		err := c.p.Authorize(c.c)
		if (err == nil) != c.want {
			t.Errorf("%s: err = %v; want allowed %v", c.c.Subject, err, c.want)
		}
		if err != nil {
			if e := bearer.AsError(err); e.StatusCode() != 403 || !errors.Is(err, bearer.ErrInsufficientScope) {
				t.Errorf("refusal %v is not a 403", err)
			}
		}
	}
}

func TestConfigErrors(t *testing.T) {
	ok := spiffe.Config{TrustDomain: "example.org", Audiences: []string{"orders"}, Bundles: spiffe.BundleFile("/nonexistent")}
	if _, err := ok.Bearer(); err != nil {
		t.Fatalf("a valid config: %v", err)
	}
	for name, edit := range map[string]func(*spiffe.Config){
		"no trust domain":          func(c *spiffe.Config) { c.TrustDomain = "" },
		"bad trust domain":         func(c *spiffe.Config) { c.TrustDomain = "Example.org" },
		"trust domain with a path": func(c *spiffe.Config) { c.TrustDomain = "spiffe://example.org/x" },
		"no audience":              func(c *spiffe.Config) { c.Audiences = nil },
		"empty audience":           func(c *spiffe.Config) { c.Audiences = []string{""} },
		"trust domain audience":    func(c *spiffe.Config) { c.Audiences = []string{"spiffe://example.org"} },
		"no bundles":               func(c *spiffe.Config) { c.Bundles = nil },
	} {
		c := ok
		edit(&c)
		if _, err := c.Bearer(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	bad := ok
	bad.Issuer = "not a url"
	bc, err := bad.Bearer()
	if err == nil {
		_, err = bearer.New(bc)
	}
	if err == nil {
		t.Error("Issuer \"not a url\" accepted")
	}
}

// The recorded JWT-SVID shapes verify and read as documented.
func TestRecordedShapes(t *testing.T) {
	for _, fx := range tokenfixture.Load(t, "spiffe-*.json") {
		t.Run(fx.Name, func(t *testing.T) {
			var want struct {
				TrustDomain string `json:"trust_domain"`
				ClientID    string `json:"client_id"`
				Path        string `json:"path"`
				Issuer      string `json:"issuer"`
			}
			fx.Decode(t, &want)
			k := key(t)
			clk := &clock{t: time.Now()}
			iss, err := bearertest.NewIssuer(bearertest.WithClock(clk.Now))
			if err != nil {
				t.Fatal(err)
			}
			defer iss.Close()
			file := filepath.Join(t.TempDir(), "bundle.json")
			writeFile(t, file, bundle(t, 1, k))
			aud := fx.Claims["aud"].([]any)[0].(string)
			bc, err := spiffe.Config{TrustDomain: want.TrustDomain, Audiences: []string{aud}, Bundles: spiffe.BundleFile(file), Issuer: want.Issuer}.Bearer()
			if err != nil {
				t.Fatal(err)
			}
			bc.Logger = quiet
			v, err := bearer.New(bc)
			if err != nil {
				t.Fatal(err)
			}
			defer v.Close()
			tok := fx.Mint(t, iss, clk.Now(), map[string]any{"iss": fx.Claims["iss"]}, bearertest.WithKey(k))
			c, err := v.Verify(bg, tok)
			if err != nil {
				t.Fatal(err)
			}
			id, err := spiffe.IDOf(c)
			if err != nil || c.ClientID != want.ClientID || id.TrustDomain() != want.TrustDomain || id.Path() != want.Path || c.Issuer != want.Issuer {
				t.Errorf("read %q (%v), ClientID %q, Issuer %q; want %+v", id, err, c.ClientID, c.Issuer, want)
			}
			if err := spiffe.RequireMemberOf(spiffe.MustParseID("spiffe://" + want.TrustDomain)).Authorize(c); err != nil {
				t.Error(err)
			}
		})
	}
}
