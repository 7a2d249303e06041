package gateway

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Each policy setting is package bearer's policy of the same name: the
// gateway's 403 (status, challenge, body) is the middleware's.
func TestPoliciesAreBearers(t *testing.T) {
	iss := newIssuer(t)
	for _, tc := range []struct {
		name   string
		policy Policy
		want   bearer.Policy
		claims map[string]any
	}{
		{"scopes", Policy{Scopes: []string{"a", "b"}}, bearer.RequireScope("a", "b"), map[string]any{"scope": "a"}},
		{"any-scopes", Policy{AnyScopes: []string{"a", "b"}}, bearer.RequireAnyScope("a", "b"), map[string]any{"scope": "c"}},
		{"roles", Policy{Roles: []string{"admin"}}, bearer.RequireRole("admin"), map[string]any{"roles": []string{"reader"}}},
		{"any-roles", Policy{AnyRoles: []string{"admin", "ops"}}, bearer.RequireAnyRole("admin", "ops"), nil},
		{"client-roles", Policy{ClientRoles: map[string][]string{"orders": {"write"}}}, bearer.RequireClientRole("orders", "write"),
			map[string]any{"resource_access": map[string]any{"orders": map[string]any{"roles": []string{"read"}}}}},
		{"any-client-roles", Policy{AnyClientRoles: map[string][]string{"orders": {"write", "admin"}}}, bearer.RequireAnyClientRole("orders", "write", "admin"), nil},
		{"scopes-or-app-permissions", Policy{ScopesOrAppPermissions: &ScopesOrAppPermissions{Scopes: []string{"orders.read"}, AppPermissions: []string{"Orders.Read.All"}}},
			bearer.RequireScopeOrAppPermission([]string{"orders.read"}, []string{"Orders.Read.All"}), nil},
		{"clients", Policy{Clients: []string{"billing", "ledger"}}, bearer.RequireClient("billing", "ledger"), map[string]any{"client_id": "shipping"}},
		{"actors", Policy{Actors: []string{"gateway"}}, bearer.RequireActor("gateway"),
			map[string]any{"act": map[string]any{"sub": "batch"}}},
		{"actors, direct call", Policy{Actors: []string{"gateway"}}, bearer.RequireActor("gateway"), nil},
		{"no-actor", Policy{NoActor: true}, bearer.RequireNoActor(), map[string]any{"act": map[string]any{"sub": "gateway"}}},
		{"max-delegation", Policy{MaxDelegation: ptr(1)}, bearer.MaxDelegation(1),
			map[string]any{"act": map[string]any{"sub": "gateway", "act": map[string]any{"sub": "frontend"}}}},
		{"any", Policy{Any: []Policy{{Scopes: []string{"a"}}, {Roles: []string{"r"}}}}, bearer.Any(bearer.RequireScope("a"), bearer.RequireRole("r")), nil},
		{"all fields", Policy{Scopes: []string{"a"}, Roles: []string{"r"}}, bearer.All(bearer.RequireScope("a"), bearer.RequireRole("r")), map[string]any{"scope": "a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := iss.MustMint(t, tc.claims)
			h := http.Header{"Authorization": {"Bearer " + tok}}
			v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: discardLogger()})
			if err != nil {
				t.Fatal(err)
			}
			_, errGot := v.Check(context.Background(), plain{"GET", "/", h}, compilePolicy(tc.policy))
			_, errWant := v.Check(context.Background(), plain{"GET", "/", h}, tc.want)
			got, want := v.Response(errGot), v.Response(errWant)
			if errWant == nil || got.Status != want.Status || string(got.Body) != string(want.Body) || got.Header.Get("WWW-Authenticate") != want.Header.Get("WWW-Authenticate") {
				t.Fatalf("got %d %s %q; want %d %s %q", got.Status, got.Body, got.Header.Get("WWW-Authenticate"), want.Status, want.Body, want.Header.Get("WWW-Authenticate"))
			}
		})
	}
	// clients: the client id must be one of the list, and a refusal names
	// none of them.
	p := compilePolicy(Policy{Clients: []string{"billing"}})
	v, _ := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: discardLogger()})
	for client, ok := range map[string]bool{"billing": true, "shipping": false} {
		tok := iss.MustMint(t, map[string]any{"client_id": client})
		_, err := v.Check(context.Background(), plain{"GET", "/", http.Header{"Authorization": {"Bearer " + tok}}}, p)
		if (err == nil) != ok || (err != nil && v.Response(err).Status != 403) {
			t.Errorf("client %s: %v", client, err)
		}
		if err != nil && strings.Contains(v.Response(err).Header.Get("WWW-Authenticate")+string(v.Response(err).Body), "billing") {
			t.Errorf("the refusal names the clients allowed: %s", v.Response(err).Body)
		}
	}
}

// Delegation policies accept what they should: tokens shaped like an
// RFC 8693 exchange's (act nested, outermost the current actor).
func TestDelegationPoliciesAccept(t *testing.T) {
	iss := newIssuer(t)
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	direct := map[string]any{"client_id": "frontend"}
	once := map[string]any{"client_id": "frontend", "act": map[string]any{"sub": "gateway"}}
	twice := map[string]any{"client_id": "frontend", "act": map[string]any{"client_id": "gateway", "act": map[string]any{"sub": "edge"}}}
	foreign := map[string]any{"client_id": "frontend", "act": map[string]any{"sub": "gateway", "iss": "https://elsewhere.example.com"}}
	for _, tc := range []struct {
		name   string
		policy Policy
		claims map[string]any
		ok     bool
	}{
		{"actors: the current actor", Policy{Actors: []string{"gateway"}}, once, true},
		{"actors: by client_id", Policy{Actors: []string{"gateway"}}, twice, true},
		{"actors: a prior actor is not the current one", Policy{Actors: []string{"edge"}}, twice, false},
		{"actors: named by another issuer", Policy{Actors: []string{"gateway"}}, foreign, false},
		{"actors: a direct call", Policy{Actors: []string{"gateway"}}, direct, false},
		{"no-actor: a direct call", Policy{NoActor: true}, direct, true},
		{"no-actor: a relayed call", Policy{NoActor: true}, once, false},
		{"max-delegation 0: direct", Policy{MaxDelegation: ptr(0)}, direct, true},
		{"max-delegation 0: relayed", Policy{MaxDelegation: ptr(0)}, once, false},
		{"max-delegation 1: once", Policy{MaxDelegation: ptr(1)}, once, true},
		{"max-delegation 1: twice", Policy{MaxDelegation: ptr(1)}, twice, false},
		{"actors and max-delegation", Policy{Actors: []string{"gateway"}, MaxDelegation: ptr(1)}, twice, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := iss.MustMint(t, tc.claims)
			_, err := v.Check(context.Background(), plain{"GET", "/", http.Header{"Authorization": {"Bearer " + tok}}}, compilePolicy(tc.policy))
			if (err == nil) != tc.ok || (err != nil && v.Response(err).Status != 403) {
				t.Fatalf("accepted: %v (err %v); want %v", err == nil, err, tc.ok)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// Delegation settings are read from the file, and contradictions refused
// at their line.
func TestDelegationSettings(t *testing.T) {
	cfg, err := parse(t, `
issuers: [{issuer-uri: "https://a.example", audiences: [api]}]
routes:
  - path: /relayed
    policy: {actors: [gateway, edge], max-delegation: 2}
  - path: /direct
    policy: {no-actor: true}
  - path: /shallow
    policy: {max-delegation: 0}
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Routes
	if strings.Join(r[0].Policy.Actors, ",") != "gateway,edge" || *r[0].Policy.MaxDelegation != 2 || !r[1].Policy.NoActor || r[2].Policy.MaxDelegation == nil || *r[2].Policy.MaxDelegation != 0 {
		t.Fatalf("%+v", r)
	}
	for _, tc := range []struct{ policy, want string }{
		{"{actors: [gateway], no-actor: true}", "gateway.yaml:5:43: routes[0].policy.no-actor: contradicts actors"},
		{"{max-delegation: -1}", "gateway.yaml:5:30: routes[0].policy.max-delegation: -1 is not between 0 and 10"},
		{"{max-delegation: 11}", "routes[0].policy.max-delegation: 11 is not between 0 and 10"},
		{"{no-actor: true, max-delegation: 1}", "routes[0].policy.max-delegation: no-actor allows no delegation already"},
		{"{actors: [gateway], max-delegation: 0}", "routes[0].policy.max-delegation: 0 allows direct calls only"},
		{"{actors: [\"\"]}", "routes[0].policy.actors: holds an empty name"},
		{"{any: [{no-actor: true}, {actors: [x], no-actor: true}]}", "routes[0].policy.any[1].no-actor: contradicts actors"},
		{"{max-delegation: one}", "gateway.yaml:5:"},
	} {
		_, err := parse(t, `
issuers: [{issuer-uri: "https://a.example", audiences: [api]}]
routes:
  - path: /x
    policy: `+tc.policy+"\n", nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v; want %q", tc.policy, err, tc.want)
		}
	}
	// A skipped route with a delegation policy checks nothing: refused.
	if _, err := parse(t, `
issuers: [{issuer-uri: "https://a.example", audiences: [api]}]
routes: [{path: /x, auth: skip, policy: {no-actor: true}}]
`, nil); err == nil || !strings.Contains(err.Error(), "a skipped route checks nothing") {
		t.Errorf("skip with no-actor: %v", err)
	}
}
