package bearer_test

import (
	"context"
	"encoding/json"
	"math/big"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// scribble changes everything a careless handler could change in claims.
func scribble(c *bearer.Claims) {
	c.ClientID, c.Subject, c.Issuer = "mallory", "mallory", "https://evil.example"
	c.Expiry = c.Expiry.Add(24 * time.Hour)
	for _, list := range [][]string{c.Audience, c.Scopes, c.Roles} {
		if len(list) > 0 {
			list[0] = "admin"
		}
	}
	c.Scopes = append(c.Scopes, "admin")
	c.Roles = append(c.Roles, "admin")
	for _, roles := range c.ClientRoles {
		if len(roles) > 0 {
			roles[0] = "admin"
		}
	}
	if c.ClientRoles != nil {
		c.ClientRoles["country-api"] = []string{"admin"}
	}
}

// readOnlyClaims are a token's claims that every list and map of Claims
// holds something of.
var readOnlyClaims = map[string]any{
	"client_id":       "billing",
	"scope":           "country.read",
	"roles":           []string{"reader"},
	"resource_access": map[string]any{"billing": map[string]any{"roles": []string{"viewer"}}},
}

// wantPristine checks that claims still say what want, the token's claims
// as first verified, says.
func wantPristine(t *testing.T, got, want *bearer.Claims) {
	t.Helper()
	g, _ := json.Marshal(got) // the exported fields
	w, _ := json.Marshal(want)
	if string(g) != string(w) || got.HasScope("admin") || got.HasRole("admin") {
		t.Fatalf("the claims changed:\n%s\nwant\n%s", g, w)
	}
}

// Whatever a handler does to the claims it gets, from the context or from
// Verify, the next request with the same token (answered from the cache)
// sees the token's own.
func TestHandlerChangesNeverReachTheNextRequest(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: quiet}}})
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, readOnlyClaims)
	r := withAuth("Bearer " + tok)
	want := must(v.Verify(bg, tok))
	for name, checker := range map[string]interface {
		bearer.Checker
		Verify(context.Context, string) (*bearer.Claims, error)
		VerifyRequest(context.Context, bearer.Request) (*bearer.Claims, error)
	}{"Verifier": v, "MultiVerifier": m} {
		t.Run(name, func(t *testing.T) {
			handle := func(get func() (*bearer.Claims, error)) {
				t.Helper()
				c, err := get()
				if err != nil {
					t.Fatal(err)
				}
				wantPristine(t, c, want)
				scribble(c)
			}
			for range 3 {
				handle(func() (*bearer.Claims, error) {
					stored, err := checker.Check(bg, r, bearer.RequireScope("country.read"))
					if err != nil {
						return nil, err
					}
					c, _ := bearer.FromContext(bearer.NewContext(bg, stored))
					return c, nil
				})
				handle(func() (*bearer.Claims, error) { return checker.Verify(bg, tok) })
				handle(func() (*bearer.Claims, error) { return checker.VerifyRequest(bg, r) })
			}
			// Nor do the changes reach bouncer's own policies.
			_, err := checker.Check(bg, r, bearer.RequireScope("admin"))
			wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
		})
	}
}

// Two readers of one request's context get copies of their own too.
func TestFromContextCopiesEachTime(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	stored, err := v.Check(bg, withAuth("Bearer "+iss.MustMint(t, readOnlyClaims)))
	if err != nil {
		t.Fatal(err)
	}
	want := stored.Clone()
	ctx := bearer.NewContext(bg, stored)
	a, _ := bearer.FromContext(ctx)
	scribble(a)
	b, ok := bearer.FromContext(ctx)
	if !ok || a == b {
		t.Fatal("FromContext handed out the same claims twice")
	}
	wantPristine(t, b, want)
	wantPristine(t, stored, want)
	if c, ok := bearer.FromContext(bearer.NewContext(bg, nil)); ok || c != nil {
		t.Fatalf("nil claims in a context: %v, %v", c, ok)
	}
}

// Claims a Verifier keeps carry a context made once, which NewContext
// returns for context.Background() (Fiber's user context): no allocation
// per request, and what it carries is exactly what any other context
// would.
func TestNewContextOnBackgroundIsMadeOnce(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	r := withAuth("Bearer " + iss.MustMint(t, readOnlyClaims))
	stored, err := v.Check(bg, r)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _ = bearer.NewContext(context.Background(), stored) }); n != 0 {
		t.Errorf("NewContext(context.Background(), verified claims) allocates %v times", n)
	}
	ctx := bearer.NewContext(context.Background(), stored)
	if got, ok := bearer.FromContext(ctx); !ok || !reflect.DeepEqual(got, stored.Clone()) {
		t.Fatalf("FromContext = %+v, %v", got, ok)
	}
	// Check reuses them from there, as from any context.
	if again, err := v.Check(ctx, withAuth("Bearer junk")); err != nil || again != stored {
		t.Fatalf("Check on the claims' context: %v, %v", again, err)
	}
	// A copy, changed, is carried as it is, never as the claims it was
	// copied from.
	own := stored.Clone()
	own.ClientID = "someone-else"
	if got, _ := bearer.FromContext(bearer.NewContext(context.Background(), own)); got.ClientID != "someone-else" {
		t.Fatalf("a copy's context carries client %q", got.ClientID)
	}
	// A struct copy shares its lists and maps with the kept claims; from
	// its context, as from theirs, the handler gets copies of its own, and
	// nothing it does to them reaches the kept claims.
	want := stored.Clone()
	copied := *stored
	copied.ClientID = "someone-else"
	for _, ctx := range []context.Context{bearer.NewContext(context.Background(), &copied), bearer.NewContext(context.Background(), stored)} {
		got, _ := bearer.FromContext(ctx)
		if got == stored {
			t.Fatal("FromContext handed out the kept claims")
		}
		scribble(got)
	}
	if got, _ := bearer.FromContext(bearer.NewContext(context.Background(), &copied)); got.ClientID != "someone-else" {
		t.Fatalf("a struct copy's context carries client %q", got.ClientID)
	}
	wantPristine(t, stored, want)
	if again, err := v.Check(bearer.NewContext(context.Background(), &copied), r); err != nil || again != stored {
		t.Fatalf("Check on a struct copy's context: %v, %v; want the kept claims, the token verified again", again, err)
	}
	// Any other context keeps what it carries.
	type key struct{}
	parent := context.WithValue(context.Background(), key{}, "v")
	ctx = bearer.NewContext(parent, stored)
	if got, ok := bearer.FromContext(ctx); !ok || got.ClientID != stored.ClientID || ctx.Value(key{}) != "v" {
		t.Fatalf("on another context: %+v, %v, %v", got, ok, ctx.Value(key{}))
	}
}

// A validator or a policy of the application's own gets a copy: what it
// changes reaches neither the built-in policies after it nor the token's
// next request.
func TestOwnValidatorsAndPoliciesGetCopies(t *testing.T) {
	iss := newIssuer(t)
	grant := func(c *bearer.Claims) {
		c.Scopes = append(c.Scopes, "admin")
		c.ClientID = "root"
	}
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.Validators = []bearer.Validator{bearer.ValidatorFunc(func(_ context.Context, c *bearer.Claims) error { grant(c); return nil })}
	})
	tok := iss.MustMint(t, readOnlyClaims)
	r := withAuth("Bearer " + tok)
	want := must(newVerifier(t, iss).Verify(bg, tok))
	own := bearer.PolicyFunc(func(c *bearer.Claims) error { grant(c); return nil })
	for range 2 { // verified, then from the cache
		_, err := v.Check(bg, r, bearer.RequireScope("admin"))
		wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
		_, err = v.Check(bg, r, bearer.All(own, bearer.RequireScope("admin")))
		wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
		_, err = v.Check(bg, r, own, bearer.Any(own, bearer.RequireScope("nothing")), bearer.RequireScope("admin"))
		wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
		c, err := v.Check(bg, r)
		if err != nil {
			t.Fatal(err)
		}
		wantPristine(t, c, want)
	}
}

// A refusal's Scope is the application's to change; the policy keeps
// asking for what it was built with.
func TestRefusalScopeIsACopy(t *testing.T) {
	p := bearer.RequireScope("country.read")
	c := &bearer.Claims{}
	e := bearer.AsError(p.Authorize(c))
	e.Scope[0] = "nothing"
	if e := bearer.AsError(p.Authorize(c)); !slices.Equal(e.Scope, []string{"country.read"}) {
		t.Fatalf("the policy now asks for %v", e.Scope)
	}
	if p.Authorize(&bearer.Claims{Scopes: []string{"nothing"}}) == nil {
		t.Fatal("the policy was changed through its refusal")
	}
}

// Clone copies every list and map; the copy reads as the original does.
func TestClone(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	stored, err := v.Check(bg, withAuth("Bearer "+iss.MustMint(t, readOnlyClaims)))
	if err != nil {
		t.Fatal(err)
	}
	want := stored.Clone()
	c := stored.Clone()
	if v, ok := c.Value("client_id"); !ok || string(v) != `"billing"` || string(c.Raw()) != string(stored.Raw()) {
		t.Fatalf("the clone reads %s, %s", v, c.Raw())
	}
	wantPristine(t, c, stored)
	scribble(c)
	wantPristine(t, stored, want)
	if (*bearer.Claims)(nil).Clone() != nil {
		t.Fatal("a nil Claims cloned to something")
	}
	var empty bearer.Claims
	if e := empty.Clone(); e.ClientRoles != nil || e.Scopes != nil {
		t.Fatalf("empty claims cloned to %+v", e)
	}
}

// The hit a middleware pays on every request but a token's first: Check
// answered from the cache, with the built-in validators and policies, and
// again by a second middleware on the same request, costs no allocation
// beyond a bare Check's: the claims are read in place, never copied.
func TestCheckCacheHitAllocatesNothingExtra(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, readOnlyClaims)
	var r bearer.Request = withAuth("Bearer " + tok)
	bare := bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: quiet}
	full := bare
	full.Validators = []bearer.Validator{bearer.ClaimOneOf("client_id", "billing"), bearer.RequireClaim("scope"), bearer.MaxTokenAge(time.Hour)}
	policies := []bearer.Policy{
		bearer.RequireScope("country.read"),
		bearer.All(bearer.RequireAnyRole("reader", "writer"), bearer.RequireClientRole("billing", "viewer")),
		bearer.Any(bearer.RequireScopeOrAppPermission([]string{"x"}, []string{"reader"}), bearer.RequireAnyClientRole("billing", "viewer")),
		bearer.RequireAnyScope("country.write", "country.read"),
	}
	checkers := func(cfg bearer.Config) map[string]bearer.Checker {
		v, err := bearer.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{cfg}})
		if err != nil {
			t.Fatal(err)
		}
		return map[string]bearer.Checker{"Verifier": v, "MultiVerifier": m}
	}
	bares := checkers(bare)
	for name, c := range checkers(full) {
		b := bares[name]
		if _, err := b.Check(bg, r); err != nil {
			t.Fatal(err)
		}
		base := testing.AllocsPerRun(100, func() { _, _ = b.Check(bg, r) })
		// A bare cache hit allocates nothing: its trace stays on the
		// stack (see judge).
		if base != 0 {
			t.Errorf("%s: a bare cache hit through Check allocates %v times", name, base)
		}
		stored, err := c.Check(bg, r, policies...)
		if err != nil {
			t.Fatal(err)
		}
		ctx := bearer.NewContext(bg, stored)
		if n := testing.AllocsPerRun(100, func() { _, _ = c.Check(bg, r, policies...) }); n != base {
			t.Errorf("%s: a cache hit through Check with validators and policies allocates %v times; a bare one %v", name, n, base)
		}
		if n := testing.AllocsPerRun(100, func() { _, _ = c.Check(ctx, r, policies...) }); n > base {
			t.Errorf("%s: Check reusing the context's claims allocates %v times; a bare one %v", name, n, base)
		}
		t.Logf("%s: a cache hit through Check allocates %v times, with or without built-in validators and policies", name, base)
	}
	// What an application asks for is a copy, made then.
	v := bares["Verifier"].(*bearer.Verifier)
	_, _ = v.Verify(bg, tok)
	t.Logf("Verify's copy on a cache hit: %v allocations", testing.AllocsPerRun(100, func() { _, _ = v.Verify(bg, tok) }))
}

// decodes counts the decoding of countedString values.
var decodes atomic.Int64

type countedString string

func (s *countedString) UnmarshalJSON(b []byte) error {
	decodes.Add(1)
	var v string
	err := json.Unmarshal(b, &v)
	*s = countedString(v)
	return err
}

type ownClaims struct {
	Tenant   countedString          `json:"tenant"`
	Groups   []string               `json:"groups"`
	Access   map[string][]string    `json:"access"`
	Plan     *struct{ Tier string } `json:"plan"`
	Extra    any                    `json:"extra"`
	Raw      json.RawMessage        `json:"raw"`
	Pair     [2]string              `json:"pair"`
	Since    time.Time              `json:"since"`
	Children []*ownClaims           `json:"children"`
}

var ownClaimValues = map[string]any{
	"tenant": "acme", "groups": []string{"ops"}, "access": map[string][]string{"x": {"read"}},
	"plan": map[string]any{"Tier": "gold"}, "extra": map[string]any{"list": []any{"a", map[string]any{"b": "c"}}},
	"raw": []int{1, 2}, "pair": []string{"p", "q"}, "since": "2024-01-02T03:04:05Z",
	"children": []any{map[string]any{"tenant": "child", "groups": []string{"kid"}}},
}

func scribbleOwn(o *ownClaims) {
	o.Tenant = "evil"
	o.Groups[0] = "admin"
	o.Access["x"][0] = "write"
	o.Access["y"] = nil
	o.Plan.Tier = "free"
	o.Extra.(map[string]any)["list"].([]any)[1].(map[string]any)["b"] = "evil"
	o.Raw[0] = 'X'
	o.Pair[0] = "evil"
	o.Children[0].Groups[0] = "admin"
}

func wantOwnPristine(t *testing.T, o *ownClaims) {
	t.Helper()
	extra, _ := json.Marshal(o.Extra)
	if o.Tenant != "acme" || !slices.Equal(o.Groups, []string{"ops"}) || len(o.Access) != 1 || !slices.Equal(o.Access["x"], []string{"read"}) ||
		o.Plan.Tier != "gold" || string(extra) != `{"list":["a",{"b":"c"}]}` || string(o.Raw) != "[1,2]" || o.Pair != [2]string{"p", "q"} ||
		!o.Since.Equal(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)) || o.Children[0].Tenant != "child" || o.Children[0].Groups[0] != "kid" {
		t.Fatalf("Typed's value changed: %+v (extra %s)", o, extra)
	}
}

// Typed decodes a token once per type, and every caller gets a deep copy
// of its own: what one request's handler changes, the next never sees.
func TestTypedDecodesOnceAndHandsOutCopies(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.Validators = []bearer.Validator{bearer.ValidatorFunc(func(_ context.Context, c *bearer.Claims) error {
			o, err := bearer.Typed[ownClaims](c)
			if err == nil {
				scribbleOwn(o)
			}
			return err
		})}
	})
	tok := iss.MustMint(t, ownClaimValues)
	r := withAuth("Bearer " + tok)
	decodes.Store(0)
	if _, err := v.Check(bg, r); err != nil { // verified once, then from the cache
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			stored, err := v.Check(bg, r)
			if err != nil {
				t.Error(err)
				return
			}
			c, _ := bearer.FromContext(bearer.NewContext(bg, stored))
			for range 2 {
				o, err := bearer.Typed[ownClaims](c)
				if err != nil {
					t.Error(err)
					return
				}
				wantOwnPristine(t, o)
				scribbleOwn(o)
			}
		})
	}
	wg.Wait()
	// One decode of the token, two values of countedString: the tenant
	// and the child's.
	if n := decodes.Load(); n != 2 {
		t.Fatalf("countedString decoded %d times; want 2 (one decode of the token)", n)
	}

	// Member names match exactly, as the checks read them.
	type exact struct {
		Tenant string `json:"TENANT"`
	}
	if e, err := bearer.Typed[exact](must(v.Verify(bg, tok))); err != nil || e.Tenant != "" {
		t.Fatalf("Typed matched a member name without regard to case: %+v, %v", e, err)
	}
}

// A type a deep copy cannot reproduce (big.Int keeps its digits in an
// unexported slice) is decoded for each call: still the caller's own.
func TestTypedDecodesUncopyableTypesEachTime(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	c := must(v.Verify(bg, iss.MustMint(t, map[string]any{"serial": uint64(12345678901234567890)})))
	type serial struct {
		Serial *big.Int `json:"serial"`
	}
	a, err := bearer.Typed[serial](c)
	if err != nil {
		t.Fatal(err)
	}
	a.Serial.Add(a.Serial, big.NewInt(1))
	b, err := bearer.Typed[serial](c)
	if err != nil || b.Serial.String() != "12345678901234567890" {
		t.Fatalf("serial %v, %v", b.Serial, err)
	}
	// Claims built by hand decode too, each time.
	if x, err := bearer.Typed[serial](&bearer.Claims{}); err == nil || x == nil {
		t.Fatalf("hand-built claims: %v, %v", x, err)
	}
}

func must(c *bearer.Claims, err error) *bearer.Claims {
	if err != nil {
		panic(err)
	}
	return c
}
