package bearer_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// delegationFixture is one file of testdata/delegation.
type delegationFixture struct {
	Header     map[string]any `json:"header"`
	Claims     map[string]any `json:"claims"`
	Normalised struct {
		Audience []string    `json:"audience"`
		ClientID string      `json:"client_id"`
		Actors   []actorJSON `json:"actors"`
		MayAct   *actorJSON  `json:"may_act"`
	} `json:"normalised"`
}

type actorJSON struct {
	Sub      string `json:"sub"`
	ClientID string `json:"client_id"`
	Iss      string `json:"iss"`
}

func (a actorJSON) actor() bearer.Actor {
	return bearer.Actor{Subject: a.Sub, ClientID: a.ClientID, Issuer: a.Iss}
}

// The recorded shapes of exchanged tokens (RFC 8693's own example,
// Keycloak's standard token exchange with and without an actor token,
// Entra's on-behalf-of flow) read as their issuers mean them: the client
// that holds the token, the chain of actors, may_act; and the delegation
// policies judge them by their current actor alone.
func TestDelegationShapes(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/delegation/*.json")
	if len(files) < 5 {
		t.Fatalf("found %d delegation fixtures", len(files))
	}
	iss := newIssuer(t)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var fx delegationFixture
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &fx); err != nil {
				t.Fatal(err)
			}
			claims := fx.Claims
			for _, dflt := range []string{"sub", "aud", "client_id", "jti"} {
				if _, ok := claims[dflt]; !ok {
					claims[dflt] = nil
				}
			}
			now := time.Now().Unix()
			claims["iss"], claims["iat"], claims["exp"] = iss.URL(), now, now+300
			if _, ok := claims["nbf"]; ok {
				claims["nbf"] = now
			}
			tok := iss.MustMint(t, claims, bearertest.WithHeader("typ", fx.Header["typ"]))
			want := fx.Normalised
			v := newVerifier(t, iss, func(c *bearer.Config) { c.Audiences = want.Audience[:1] })
			c, err := v.Verify(bg, tok)
			if err != nil {
				t.Fatal(err)
			}
			if c.ClientID != want.ClientID {
				t.Errorf("ClientID = %q; want %q", c.ClientID, want.ClientID)
			}
			var chain []bearer.Actor
			for _, a := range want.Actors {
				chain = append(chain, a.actor())
			}
			if got := c.Actor(); !slices.Equal(got, chain) {
				t.Errorf("Actor() = %+v; want %+v", got, chain)
			}
			mayAct, ok := c.MayAct()
			if (want.MayAct != nil) != ok || (ok && mayAct != want.MayAct.actor()) {
				t.Errorf("MayAct() = %+v, %v; want %+v", mayAct, ok, want.MayAct)
			}

			// The policies, each with the answer this chain deserves.
			direct := len(chain) == 0
			wantGrant(t, bearer.RequireNoActor(), c, direct)
			wantGrant(t, bearer.MaxDelegation(0), c, direct)
			wantGrant(t, bearer.MaxDelegation(len(chain)), c, true)
			if want.ClientID != "" {
				wantGrant(t, bearer.RequireClient(want.ClientID), c, true)
			}
			if direct {
				wantGrant(t, bearer.RequireActor(want.ClientID, "anyone"), c, false)
				return
			}
			wantGrant(t, bearer.MaxDelegation(len(chain)-1), c, false)
			wantGrant(t, bearer.RequireActor("someone-else", chain[0].ID()), c, true)
			if len(chain) > 1 {
				// A prior actor is history, never the actor that counts.
				wantGrant(t, bearer.RequireActor(chain[1].ID()), c, false)
			}
		})
	}
}

// wantGrant asserts that p grants c, or refuses it with 403.
func wantGrant(t *testing.T, p bearer.Policy, c *bearer.Claims, grant bool) {
	t.Helper()
	err := p.Authorize(c)
	if grant {
		if err != nil {
			t.Errorf("refused: %v", err)
		}
		return
	}
	wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
}

// act is read once, strictly: anything but a chain of objects that each
// name an actor, of at most MaxDelegationChain, is a malformed token
// (401), never a chain a policy could read two ways.
func TestActorChainMalformed(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	deep := func(n int) string {
		s := `{"sub":"a0"}`
		for i := 1; i < n; i++ {
			s = fmt.Sprintf(`{"sub":"a%d","act":%s}`, i, s)
		}
		return s
	}
	payload := func(claims string) []byte {
		exp := time.Now().Add(time.Hour).Unix()
		return []byte(`{"iss":"` + iss.URL() + `","aud":"` + testAudience + `","exp":` + jsonInt(exp) + `,"sub":"user",` + claims + `}`)
	}
	for _, tc := range []struct{ name, claims string }{
		{"act a string", `"act":"orders"`},
		{"act an array", `"act":[{"sub":"orders"}]`},
		{"act a number", `"act":1`},
		{"act null", `"act":null`},
		{"act naming nobody", `"act":{"iss":"https://other.example"}`},
		{"act empty", `"act":{}`},
		{"nested act a string", `"act":{"sub":"orders","act":"gateway"}`},
		{"nested act null", `"act":{"sub":"orders","act":null}`},
		{"nested act naming nobody", `"act":{"sub":"orders","act":{"scope":"x"}}`},
		{"sub a number", `"act":{"sub":42}`},
		{"client_id an array", `"act":{"client_id":["orders"]}`},
		{"iss an object", `"act":{"sub":"orders","iss":{}}`},
		{"sub repeated", `"act":{"sub":"orders","sub":"gateway"}`},
		{"act repeated inside", `"act":{"sub":"orders","act":{"sub":"a"},"act":{"sub":"b"}}`},
		{"act repeated at the top", `"act":{"sub":"orders"},"act":{"sub":"gateway"}`},
		{"chain too deep", `"act":` + deep(bearer.MaxDelegationChain+1)},
		{"may_act a string", `"may_act":"orders"`},
		{"may_act naming nobody", `"may_act":{}`},
		{"may_act sub repeated", `"may_act":{"sub":"a","sub":"b"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(bg, mustMintPayload(t, iss, payload(tc.claims)))
			wantRefusal(t, err, bearer.ErrMalformed, 401)
		})
	}
	t.Run("longest chain accepted", func(t *testing.T) {
		c, err := v.Verify(bg, mustMintPayload(t, iss, payload(`"act":`+deep(bearer.MaxDelegationChain))))
		if err != nil {
			t.Fatal(err)
		}
		chain := c.Actor()
		if len(chain) != bearer.MaxDelegationChain || chain[0].Subject != fmt.Sprintf("a%d", bearer.MaxDelegationChain-1) || chain[len(chain)-1].Subject != "a0" {
			t.Fatalf("chain %+v", chain)
		}
	})
	t.Run("unknown members of an actor are kept out of the way", func(t *testing.T) {
		c, err := v.Verify(bg, mustMintPayload(t, iss, payload(`"act":{"sub":"orders","amr":["mfa"],"iss":"https://other.example"}`)))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Actor(); len(got) != 1 || got[0] != (bearer.Actor{Subject: "orders", Issuer: "https://other.example"}) {
			t.Fatalf("Actor() = %+v", got)
		}
	})
}

// The chain handed out is the caller's own: changing it changes nothing
// for the token's next request.
func TestActorIsACopy(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	tok := iss.MustMint(t, map[string]any{"act": map[string]any{"sub": "orders"}})
	c, err := v.Verify(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	c.Actor()[0].Subject = "scribbled"
	chain := c.Actor()
	chain[0].Subject = "scribbled"
	again, err := v.Verify(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Actor(); got[0].Subject != "orders" {
		t.Fatalf("Actor() = %+v after a caller changed its copy", got)
	}
	if c.Clone().Actor()[0].Subject != "orders" {
		t.Fatal("Clone lost the chain")
	}
}

// Actors are matched by client_id when they name one, else by sub.
func TestRequireActorMatchesByID(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	for _, tc := range []struct {
		name  string
		act   map[string]any
		allow string
		grant bool
	}{
		{"sub", map[string]any{"sub": "orders"}, "orders", true},
		{"client_id", map[string]any{"sub": "9a1b", "client_id": "orders"}, "orders", true},
		{"client_id wins over sub", map[string]any{"sub": "orders", "client_id": "gateway"}, "orders", false},
		{"another actor", map[string]any{"sub": "gateway"}, "orders", false},
		{"named by the token's issuer", map[string]any{"sub": "orders", "iss": "ISSUER"}, "orders", true},
		{"named by another issuer", map[string]any{"sub": "orders", "iss": "https://other.example"}, "orders", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.act["iss"] == "ISSUER" {
				tc.act["iss"] = iss.URL()
			}
			c, err := v.Verify(bg, iss.MustMint(t, map[string]any{"act": tc.act}))
			if err != nil {
				t.Fatal(err)
			}
			wantGrant(t, bearer.RequireActor(tc.allow), c, tc.grant)
		})
	}
}

// RequireClient reads every issuer's client claim: client_id, azp, appid,
// Spring's sub (ClientIDFromSubject) and a Kubernetes service account's
// sub (mapped as the client id).
func TestRequireClientOnEveryIssuersClaim(t *testing.T) {
	iss := newIssuer(t)
	for _, tc := range []struct {
		name    string
		claims  map[string]any
		mapping bearer.ClaimMapping
		client  string
	}{
		{"client_id", map[string]any{"client_id": "billing"}, bearer.ClaimMapping{}, "billing"},
		{"azp", map[string]any{"client_id": nil, "azp": "billing"}, bearer.ClaimMapping{}, "billing"},
		{"appid", map[string]any{"client_id": nil, "appid": "billing"}, bearer.ClaimMapping{}, "billing"},
		{"Spring's sub", map[string]any{"client_id": nil, "sub": "billing", "aud": []string{testAudience, "billing"}}, bearer.ClaimMapping{ClientIDFromSubject: true}, "billing"},
		{"Kubernetes service account", map[string]any{
			"client_id": nil, "sub": "system:serviceaccount:payments:billing",
			"kubernetes.io": map[string]any{"namespace": "payments", "serviceaccount": map[string]any{"name": "billing", "uid": "3f1e"}},
		}, bearer.ClaimMapping{ClientID: []string{"sub"}}, "system:serviceaccount:payments:billing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, iss, func(c *bearer.Config) { c.Claims = tc.mapping })
			tok := iss.MustMint(t, tc.claims)
			if _, err := v.Check(bg, withAuth("Bearer "+tok), bearer.RequireClient("reporting", tc.client)); err != nil {
				t.Fatalf("allowed client refused: %v", err)
			}
			_, err := v.Check(bg, withAuth("Bearer "+tok), bearer.RequireClient("reporting", "audit"))
			e := wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
			for _, name := range []string{tc.client, "reporting", "audit"} {
				if strings.Contains(e.Description, name) || strings.Contains(v.Response(err).Header.Get("WWW-Authenticate"), name) {
					t.Fatalf("the refusal names %q: %q", name, e.Description)
				}
			}
		})
	}
	t.Run("no client at all", func(t *testing.T) {
		v := newVerifier(t, iss)
		_, err := v.Check(bg, withAuth("Bearer "+iss.MustMint(t, map[string]any{"client_id": nil, "sub": nil})), bearer.RequireClient(""))
		wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
	})
}

func TestRequireClientComposes(t *testing.T) {
	billing := &bearer.Claims{ClientID: "billing", Scopes: []string{"invoices.read"}}
	other := &bearer.Claims{ClientID: "reporting", Scopes: []string{"invoices.read", "admin"}}
	either := bearer.Any(bearer.RequireClient("billing"), bearer.RequireScope("admin"))
	both := bearer.All(bearer.RequireScope("invoices.read"), bearer.RequireClient("billing"))
	wantGrant(t, either, billing, true)
	wantGrant(t, either, other, true)
	wantGrant(t, both, billing, true)
	wantGrant(t, both, other, false)
	err := bearer.Any(bearer.RequireClient("billing"), bearer.RequireClient("audit")).Authorize(other)
	e := wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
	if strings.Contains(e.Description, "billing") || strings.Contains(e.Description, "reporting") {
		t.Fatalf("the refusal names a client: %q", e.Description)
	}
}

// The delegation and client policies read the kept claims in place, as
// the other built-in policies do: a request answered from the token cache
// allocates nothing.
func TestDelegationPoliciesAllocateNothing(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	tok := iss.MustMint(t, map[string]any{"client_id": "gateway", "act": map[string]any{"sub": "orders", "act": map[string]any{"sub": "web"}}})
	var r bearer.Request = withAuth("Bearer " + tok)
	policies := []bearer.Policy{bearer.RequireClient("gateway"), bearer.RequireActor("orders"), bearer.MaxDelegation(2)}
	if _, err := v.Check(bg, r, policies...); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := v.Check(bg, r, policies...); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("%v allocations per request", n)
	}
}
