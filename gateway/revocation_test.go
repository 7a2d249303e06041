package gateway

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

const ssfAudience = "https://orders.example.com/ssf"

func TestRevocationSettings(t *testing.T) {
	cfg, err := parse(t, `
redis:
  url: redis://127.0.0.1:6379/0
revocation:
  retention: 2h
  max-rules: 5000
  fail-closed: true
  resync-every: 500ms
  stale-after: 5s
  ssf:
    - path: /ssf/keycloak
      issuer-uri: https://sso.example.com/realms/services
      audience: https://orders.example.com/ssf
      authorization-header: Bearer ${SSF_SECRET}
      max-age: 10m
      max-bytes: 32768
    - path: /ssf/okta
      issuer-uri: https://example.okta.com
      jwk-set-uri: https://example.okta.com/oauth2/v1/keys
      audience: orders
      issuers: [https://sso.example.com/realms/services]
issuers:
  - issuer-uri: https://sso.example.com/realms/services
    audiences: [orders-api]
routes: [{path-prefix: /}]
`, map[string]string{"SSF_SECRET": "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	rv := cfg.Revocation
	if rv.Retention != 2*time.Hour || rv.MaxRules != 5000 || !rv.FailClosed || rv.ResyncEvery != 500*time.Millisecond || rv.StaleAfter != 5*time.Second ||
		len(rv.SSF) != 2 || rv.SSF[0].AuthorizationHeader != "Bearer s3cret" || rv.SSF[0].MaxAge != 10*time.Minute || rv.SSF[1].Issuers[0] != "https://sso.example.com/realms/services" {
		t.Fatalf("%+v", rv)
	}
	if !cfg.sharesRevocations() {
		t.Fatal("the rules are not shared through Redis")
	}

	const base = `
issuers:
  - issuer-uri: https://sso.example.com
    audiences: [orders-api]
routes: [{path-prefix: /}]
`
	for _, tc := range []struct{ name, text, want string }{
		{"misspelt", "revocation:\n  fail-close: true\n", `gateway.yaml:7:3: revocation.fail-close: unknown setting "fail-close" (did you mean "fail-closed"?)`},
		{"fail-closed without Redis", "revocation:\n  fail-closed: true\n", "gateway.yaml:7:16: revocation.fail-closed: is about rules shared through Redis"},
		{"fail-closed with Redis not shared", "redis: {url: \"redis://r:6379\", revocations: false}\nrevocation: {fail-closed: true}\n", "revocation.fail-closed: is about rules shared through Redis"},
		{"revocations shared, but none", "redis: {url: \"redis://r:6379\", revocations: true}\n", "redis.revocations: there is no revocation section"},
		{"retention too short", "revocation: {retention: 30s}\n", "gateway.yaml:6:25: revocation.retention: 30s is not between 1m and 720h"},
		{"retention too long", "revocation: {retention: 1000h}\n", "revocation.retention: 1000h0m0s is not between"},
		{"max-rules negative", "revocation: {max-rules: -1}\n", "revocation.max-rules: is not between"},
		{"resync too often", "redis: {url: \"redis://r:6379\"}\nrevocation: {resync-every: 10ms}\n", "revocation.resync-every: 10ms is less than 100ms"},
		{"ssf: no path", "revocation:\n  ssf:\n    - issuer-uri: https://sso.example.com\n      audience: a\n", "gateway.yaml:8:7: revocation.ssf[0]: path is required"},
		{"ssf: no audience", "revocation:\n  ssf: [{path: /ssf, issuer-uri: \"https://sso.example.com\"}]\n", "revocation.ssf[0]: audience is required"},
		{"ssf: no issuer", "revocation:\n  ssf: [{path: /ssf, audience: a}]\n", "revocation.ssf[0]: issuer-uri is required"},
		{"ssf: plain http", "revocation:\n  ssf: [{path: /ssf, audience: a, issuer-uri: \"http://sso.example.com\"}]\n", "revocation.ssf[0].issuer-uri: \"http://sso.example.com\" is not https"},
		{"ssf: the forward-auth path", "revocation:\n  ssf: [{path: /auth, audience: a, issuer-uri: \"https://sso.example.com\"}]\n", "revocation.ssf[0].path: /auth is served already, by listen.forward-auth-path"},
		{"ssf: the health check", "revocation:\n  ssf: [{path: /healthz, audience: a, issuer-uri: \"https://sso.example.com\"}]\n", "/healthz is served already"},
		{"ssf: under Envoy's prefix", "revocation:\n  ssf: [{path: /envoy/ssf, audience: a, issuer-uri: \"https://sso.example.com\"}]\n", "is under listen.envoy-http-prefix"},
		{"ssf: not clean", "revocation:\n  ssf: [{path: /ssf/../x, audience: a, issuer-uri: \"https://sso.example.com\"}]\n", "is not a clean path"},
		{"ssf: twice at one path", "revocation:\n  ssf:\n    - {path: /ssf, audience: a, issuer-uri: \"https://sso.example.com\"}\n    - {path: /ssf, audience: b, issuer-uri: \"https://sso.example.com\"}\n",
			"revocation.ssf[1].path: revocation.ssf[0] is served at /ssf already"},
		{"ssf: a secret in the file", "revocation:\n  ssf: [{path: /ssf, audience: a, issuer-uri: \"https://sso.example.com\", authorization-header: Bearer s3cret}]\n",
			"revocation.ssf[0].authorization-header: is a secret: write it as ${NAME}"},
		{"ssf: a transmitter of no gateway issuer", "revocation:\n  ssf: [{path: /ssf, audience: a, issuer-uri: \"https://events.example.com\"}]\n",
			"revocation.ssf[0].issuer-uri: the transmitter https://events.example.com is none of the gateway's issuers"},
		{"ssf: revoking for an unknown issuer", "revocation:\n  ssf: [{path: /ssf, audience: a, issuer-uri: \"https://sso.example.com\", issuers: [\"https://other.example.com\"]}]\n",
			"revocation.ssf[0].issuers[0]: https://other.example.com is none of the gateway's issuers"},
		{"ssf: max-age", "revocation:\n  ssf: [{path: /ssf, audience: a, issuer-uri: \"https://sso.example.com\", max-age: 48h}]\n", "revocation.ssf[0].max-age: 48h0m0s is not between 1m and 24h"},
		{"ssf: unknown setting", "revocation:\n  ssf: [{path: /ssf, audience: a, issuer-uri: \"https://sso.example.com\", audiences: [a]}]\n", `unknown setting "audiences" (did you mean "audience"?)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, base+tc.text, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant %q", err, tc.want)
			}
		})
	}
	// A literal "$${" is no environment variable: the secret is still in
	// the file.
	if _, err := parse(t, base+"revocation:\n  ssf: [{path: /ssf, audience: a, issuer-uri: \"https://sso.example.com\", authorization-header: \"Bearer $${X}\"}]\n", nil); err == nil || !strings.Contains(err.Error(), "is a secret") {
		t.Fatalf("err = %v", err)
	}
}

// A token accepted once (and cached) is refused, 401 "the token was
// revoked", as soon as a rule covers it; other tokens are still accepted.
func TestForwardAuthRefusesRevokedTokens(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, "revocation: {}\n"+ordersConfig, iss)
	base := forwardAuthServer(t, g)
	check := func(tok string) reply {
		return ask(t, base, traefik("GET", "api.example.com", "/orders/7", http.Header{"Authorization": {"Bearer " + tok}}))
	}
	for _, tc := range []struct {
		name   string
		claims map[string]any
		rule   func(tok string) bearer.Revocation
	}{
		{"by jti", map[string]any{"jti": "leaked-1"}, func(string) bearer.Revocation {
			return bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "leaked-1"}
		}},
		{"by client, issued before", map[string]any{"client_id": "leaky"}, func(string) bearer.Revocation {
			return bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: "leaky", Before: time.Now()}
		}},
		{"by subject, issued before", map[string]any{"sub": "ada"}, func(string) bearer.Revocation {
			return bearer.Revocation{Kind: bearer.RevokeSubjectBefore, Issuer: iss.URL(), Value: "ada", Before: time.Now()}
		}},
		{"by the token's hash", nil, func(tok string) bearer.Revocation {
			return bearer.Revocation{Kind: bearer.RevokeToken, Value: bearer.TokenHash(tok)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claims := map[string]any{"scope": "orders.read", "client_id": "billing"}
			for k, v := range tc.claims {
				claims[k] = v
			}
			tok := iss.MustMint(t, claims)
			other := iss.MustMint(t, map[string]any{"scope": "orders.read", "client_id": "billing", "sub": "grace"})
			for range 2 { // judged, then from the cache
				if r := check(tok); r.status != 200 {
					t.Fatalf("before the rule: %d %s", r.status, r.body)
				}
			}
			if err := g.rev.revoker.Revoke(context.Background(), tc.rule(tok)); err != nil {
				t.Fatal(err)
			}
			r := check(tok)
			if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token", error_description="the token was revoked"`) {
				t.Fatalf("after the rule: %d %q %s", r.status, r.header.Get("WWW-Authenticate"), r.body)
			}
			if r := check(other); r.status != 200 {
				t.Fatalf("a token the rule does not cover: %d %s", r.status, r.body)
			}
		})
	}
}

// Rules must outlive the tokens they cover: with revocation on, a token
// living longer than the retention is refused.
func TestRevocationBoundsTokenLifetime(t *testing.T) {
	iss := newIssuer(t, bearertest.WithTokenTTL(2*time.Hour))
	g := newGateway(t, "revocation: {retention: 1h}\n"+ordersConfig, iss)
	r := ask(t, forwardAuthServer(t, g), traefik("GET", "api.example.com", "/orders/7", http.Header{"Authorization": {"Bearer " + iss.MustMint(t, map[string]any{"scope": "orders.read"})}}))
	if r.status != 401 || !strings.Contains(r.header.Get("WWW-Authenticate"), "for which revocations are kept") {
		t.Fatalf("%d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
}

// bouncer serve --check builds the revocations and receivers without
// contacting Redis or the transmitter.
func TestCheckFileContactsNothing(t *testing.T) {
	iss := newIssuer(t)
	file := t.TempDir() + "/gateway.yaml"
	write(t, file, `
redis: {url: "redis://127.0.0.1:1/0", timeout: 50ms}
revocation:
  fail-closed: true
  ssf: [{path: /ssf, audience: a, issuer-uri: "${ISSUER}"}]
`+ordersConfig)
	start := time.Now()
	if _, err := CheckFile(file, func(string) (string, bool) { return iss.URL(), true }); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the check took %v: it waited for something", d)
	}
}

// The Shared Signals receiver on the gateway's HTTP listener: an
// identity provider's event takes back the tokens it names, on every
// front door, and a reload neither loses the rule nor the endpoint.
func TestSSFPushThroughTheGateway(t *testing.T) {
	iss := newIssuer(t, bearertest.WithSSFTransmitter())
	text := `
revocation:
  ssf:
    - path: /ssf/events
      issuer-uri: ${ISSUER}
      audience: ` + ssfAudience + `
      authorization-header: Bearer ${SSF_SECRET}
` + serverConfig
	r := startServerEnv(t, text, map[string]string{"ISSUER": iss.URL(), "SSF_SECRET": "s3cret"})
	check := func(tok string) int {
		code, _ := get(t, r.base+"/auth", traefik("GET", "api.example.com", "/orders/7", http.Header{"Authorization": {"Bearer " + tok}}))
		return code
	}
	push := func(set, auth string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, r.base+"/ssf/events", strings.NewReader(set))
		req.Header.Set("Content-Type", "application/secevent+jwt")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	mintSET := func(sub map[string]any, event string) string {
		set, err := iss.MintSET(ssfAudience, sub, map[string]any{event: map[string]any{"event_timestamp": time.Now().Unix()}})
		if err != nil {
			t.Fatal(err)
		}
		return set
	}

	ada := iss.MustMint(t, map[string]any{"scope": "orders.read", "sub": "ada", "client_id": "web"})
	grace := iss.MustMint(t, map[string]any{"scope": "orders.read", "sub": "grace", "client_id": "web"})
	if c := check(ada); c != 200 {
		t.Fatalf("before the event: %d", c)
	}
	set := mintSET(map[string]any{"format": "iss_sub", "iss": iss.URL(), "sub": "ada"}, bearertest.EventSessionRevoked)
	if code, body := push(set, "Bearer wrong"); code != 400 || !strings.Contains(body, "authentication_failed") {
		t.Fatalf("a push without the secret: %d %s", code, body)
	}
	if c := check(ada); c != 200 {
		t.Fatalf("a refused push revoked: %d", c)
	}
	if code, body := push(set, "Bearer s3cret"); code != 202 {
		t.Fatalf("push: %d %s", code, body)
	}
	if c := check(ada); c != 401 {
		t.Fatalf("after the event: %d", c)
	}
	if c := check(grace); c != 200 {
		t.Fatalf("another subject: %d", c)
	}
	if code, _ := get(t, r.base+"/ssf/events", nil); code != 405 {
		t.Fatalf("GET at the push endpoint: %d", code)
	}
	if code, _ := get(t, r.base+"/ssf/other", nil); code != 404 {
		t.Fatalf("another path: %d", code)
	}

	// A reload keeps the rules and serves the endpoint of the new file.
	old := r.s.cur.Load()
	write(t, r.file, text+"  - path-prefix: /reports\n")
	eventually(t, "the reload", func() bool { return r.s.cur.Load() != old })
	if !old.closed.Load() {
		t.Fatal("the old configuration (and its receiver) was not closed")
	}
	if c := check(ada); c != 401 {
		t.Fatalf("after the reload, the revoked token: %d", c)
	}
	set = mintSET(map[string]any{"format": "opaque", "id": "grace"}, bearertest.EventAccountDisabled)
	if code, body := push(set, "Bearer s3cret"); code != 202 {
		t.Fatalf("push after the reload: %d %s", code, body)
	}
	if c := check(grace); c != 401 {
		t.Fatalf("after the second event: %d", c)
	}

	// A reload that changes the revocation settings starts a new list
	// holding the rules of the old one.
	prev := r.s.cur.Load()
	write(t, r.file, strings.Replace(text, "revocation:\n", "revocation:\n  retention: 2h\n", 1))
	eventually(t, "the second reload", func() bool { return r.s.cur.Load() != prev })
	if r.s.cur.Load().rev == prev.rev {
		t.Fatal("the revocations were kept though their settings changed")
	}
	if check(ada) != 401 || check(grace) != 401 {
		t.Fatal("a rule was lost when the revocation settings changed")
	}
}

// A rule published through Redis, as bouncer revoke publishes it, reaches
// running gateways within a second; rules stored before a gateway starts
// are in force from its start; an event received by one replica reaches
// the others.
func TestRevocationsReachRunningGatewaysThroughRedis(t *testing.T) {
	iss := newIssuer(t, bearertest.WithSSFTransmitter())
	redisURL := startRedis(t)
	text := fmt.Sprintf(`
redis:
  url: %s
  prefix: "orders:"
revocation:
  ssf: [{path: /ssf/events, issuer-uri: "${ISSUER}", audience: %q}]
`, redisURL, ssfAudience) + ordersConfig
	opts, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	// What bouncer revoke does.
	publisher, err := bearerredis.NewRevocations(rdb, nil, bearerredis.RevocationsConfig{Prefix: "orders:", Timeout: 5 * time.Second, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mint := func(jti string) string {
		return iss.MustMint(t, map[string]any{"scope": "orders.read", "client_id": "billing", "jti": jti, "sub": "svc-" + jti})
	}
	early := mint("early")
	if err := publisher.Revoke(ctx, bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "early", Source: "cli"}); err != nil {
		t.Fatal(err)
	}

	ga, gb := newGateway(t, text, iss), newGateway(t, text, iss)
	replicas := []string{forwardAuthServer(t, ga), forwardAuthServer(t, gb)}
	status := func(base, tok string) int {
		return ask(t, base, traefik("GET", "api.example.com", "/orders/7", http.Header{"Authorization": {"Bearer " + tok}})).status
	}
	for _, base := range replicas {
		if c := status(base, early); c != 401 {
			t.Fatalf("a rule stored before the start: %d", c)
		}
	}

	// refusedWithin waits until every replica refuses tok, and says how
	// long that took after since.
	refusedWithin := func(tok string, since time.Time) time.Duration {
		t.Helper()
		for _, base := range replicas {
			for status(base, tok) != 401 {
				if time.Since(since) > 5*time.Second {
					t.Fatalf("not refused within 5s")
				}
				time.Sleep(time.Millisecond)
			}
		}
		return time.Since(since)
	}
	const trials = 30
	var delays []time.Duration
	for i := range trials {
		tok := mint(fmt.Sprint("t", i))
		for _, base := range replicas {
			if c := status(base, tok); c != 200 {
				t.Fatalf("trial %d: accepted before: %d", i, c)
			}
		}
		start := time.Now()
		if err := publisher.Revoke(ctx, bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: fmt.Sprint("t", i), Source: "cli"}); err != nil {
			t.Fatal(err)
		}
		delays = append(delays, refusedWithin(tok, start))
	}
	// A client's tokens issued before now.
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read", "client_id": "leaky"})
	for _, base := range replicas {
		if c := status(base, tok); c != 200 {
			t.Fatalf("accepted before: %d", c)
		}
	}
	start := time.Now()
	if err := publisher.Revoke(ctx, bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: "leaky", Before: start, Source: "cli"}); err != nil {
		t.Fatal(err)
	}
	delays = append(delays, refusedWithin(tok, start))

	// A security event pushed to one replica reaches the other.
	tok = iss.MustMint(t, map[string]any{"scope": "orders.read", "sub": "ada"})
	for _, base := range replicas {
		if c := status(base, tok); c != 200 {
			t.Fatalf("accepted before: %d", c)
		}
	}
	set, err := iss.MintSET(ssfAudience, map[string]any{"format": "iss_sub", "iss": iss.URL(), "sub": "ada"}, map[string]any{bearertest.EventCredentialChange: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ga.serveSSF(w, r) {
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	start = time.Now()
	resp, err := http.Post(srv.URL+"/ssf/events", "application/secevent+jwt", strings.NewReader(set))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		t.Fatalf("push: %d", resp.StatusCode)
	}
	delays = append(delays, refusedWithin(tok, start))

	slices.Sort(delays)
	worst := delays[len(delays)-1]
	t.Logf("propagation to both replicas over %d rules: median %v, worst %v", len(delays), delays[len(delays)/2], worst)
	if worst > time.Second {
		t.Fatalf("worst propagation %v: more than a second", worst)
	}
}

// A reload keeps following Redis without subscribing twice: unchanged
// settings keep the running subscription, changed ones replace it, and
// no rule is lost either way.
func TestReloadKeepsOneRevocationSubscription(t *testing.T) {
	iss := newIssuer(t)
	redisURL := startRedis(t)
	text := fmt.Sprintf("redis: {url: %q, prefix: \"orders:\"}\nrevocation: {}\n", redisURL) + serverConfig
	r := startServer(t, text, iss)
	opts, _ := redis.ParseURL(redisURL)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	const channel = "orders:bouncer:revocations"
	subscribers := func() int64 { return rdb.PubSubNumSub(context.Background(), channel).Val()[channel] }
	publisher, err := bearerredis.NewRevocations(rdb, nil, bearerredis.RevocationsConfig{Prefix: "orders:", Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read", "jti": "one"})
	check := func() int {
		code, _ := get(t, r.base+"/auth", traefik("GET", "api.example.com", "/orders/7", http.Header{"Authorization": {"Bearer " + tok}}))
		return code
	}
	if c := check(); c != 200 {
		t.Fatalf("before: %d", c)
	}
	if err := publisher.Revoke(context.Background(), bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "one"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the rule", func() bool { return check() == 401 })
	eventually(t, "one subscription", func() bool { return subscribers() == 1 })

	old := r.s.cur.Load()
	write(t, r.file, text+"  - path-prefix: /reports\n")
	eventually(t, "the reload", func() bool { return r.s.cur.Load() != old })
	if r.s.cur.Load().rev != old.rev {
		t.Fatal("unchanged revocation settings were rebuilt")
	}
	if !old.closed.Load() || old.rev.fleet == nil {
		t.Fatal("the old configuration is still open")
	}
	if n := subscribers(); n != 1 {
		t.Fatalf("%d subscriptions after a reload", n)
	}

	prev := r.s.cur.Load()
	write(t, r.file, strings.Replace(text, "revocation: {}", "revocation: {resync-every: 200ms}", 1))
	eventually(t, "the second reload", func() bool { return r.s.cur.Load() != prev })
	if r.s.cur.Load().rev == prev.rev {
		t.Fatal("changed revocation settings were kept")
	}
	eventually(t, "the old subscription gone", func() bool { return subscribers() == 1 })
	if c := check(); c != 401 {
		t.Fatalf("after the reloads: %d", c)
	}
}

// With Redis out of reach, fail-closed answers 503 (the rules cannot be
// known); by default tokens are still judged with the rules held.
func TestRevocationFailClosed(t *testing.T) {
	iss := newIssuer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	for _, tc := range []struct {
		setting string
		want    int
	}{{"{}", 200}, {"{fail-closed: false}", 200}, {"{fail-closed: true}", 503}} {
		text := fmt.Sprintf("redis: {url: \"redis://%s/0\", timeout: 50ms}\nrevocation: %s\n", dead, tc.setting) + ordersConfig
		r := ask(t, forwardAuthServer(t, newGateway(t, text, iss)), traefik("GET", "api.example.com", "/orders/7", http.Header{"Authorization": {"Bearer " + tok}}))
		if r.status != tc.want || (tc.want == 503 && r.header.Get("Retry-After") == "") {
			t.Errorf("revocation: %s: %d %q %s; want %d", tc.setting, r.status, r.header.Get("Retry-After"), r.body, tc.want)
		}
	}
}

// With several issuers, each of them refuses what the rules say of its
// own tokens, from the cache they share too: a client revoked at one
// issuer keeps its name at the other.
func TestRevocationWithSeveralIssuers(t *testing.T) {
	a, b := newIssuer(t), newIssuer(t)
	text := `
revocation: {}
issuers:
  - issuer-uri: ${A}
    audiences: [orders-api]
  - issuer-uri: ${B}
    audiences: [orders-api]
routes: [{path-prefix: /}]
`
	cfg, err := parse(t, text, map[string]string{"A": a.URL(), "B": b.URL()})
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(cfg, Options{Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	base := forwardAuthServer(t, g)
	check := func(tok string) int {
		return ask(t, base, traefik("GET", "api.example.com", "/x", http.Header{"Authorization": {"Bearer " + tok}})).status
	}
	ta, tb := a.MustMint(t, map[string]any{"client_id": "billing"}), b.MustMint(t, map[string]any{"client_id": "billing"})
	if check(ta) != 200 || check(tb) != 200 {
		t.Fatal("refused before the rule")
	}
	if err := g.rev.revoker.Revoke(context.Background(), bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: b.URL(), Value: "billing", Before: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if c := check(tb); c != 401 {
		t.Fatalf("the revoked issuer's token: %d", c)
	}
	if c := check(ta); c != 200 {
		t.Fatalf("the other issuer's token: %d", c)
	}
}
