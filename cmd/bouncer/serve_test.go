package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/gateway"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestServeCheck(t *testing.T) {
	good := writeConfig(t, `
issuers:
  - issuer-uri: https://sso.example.com/realms/services
    audiences: [orders-api]
routes:
  - path-prefix: /orders
    policy: {scopes: [orders.read]}
`)
	bouncer(t, "", "serve", "--check", good).wants(t, exitOK, "valid (1 issuers, 1 routes)")

	bad := writeConfig(t, `
issuers:
  - issuer-uri: http://sso.example.com
    audiences: [orders-api]
routes:
  - path: /a
    path-prefix: /a
    methods: [get]
`)
	r := bouncer(t, "", "serve", "--check", bad)
	if r.code != exitRefused || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], bad+":6:") || !strings.HasPrefix(lines[1], bad+":8:") {
		t.Fatalf("one problem a line, file:line first:\n%s", r.stderr)
	}
	// Problems package bearer finds are reported too, at the issuer.
	http := writeConfig(t, `
issuers:
  - issuer-uri: http://sso.example.com
    audiences: [orders-api]
routes: [{path: /}]
`)
	r = bouncer(t, "", "serve", "--check", http)
	if r.code != exitRefused || !strings.Contains(r.stderr, http+":3:5: issuers[0]: issuer-uri") {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
}

func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{{"serve"}, {"serve", "--check", "a", "--config", "b"}, {"serve", "--config", "a", "extra"}} {
		if r := bouncer(t, "", args...); r.code != exitUsage {
			t.Errorf("%q: exit %d", args, r.code)
		}
	}
	if r := bouncer(t, "", "serve", "--config", filepath.Join(t.TempDir(), "missing.yaml")); r.code != exitRefused || !strings.Contains(r.stderr, "missing.yaml") {
		t.Errorf("missing file: exit %d, %q", r.code, r.stderr)
	}
}

// --check reads the revocation section and the delegation policies, and
// contacts neither Redis nor the transmitter.
func TestServeCheckRevocation(t *testing.T) {
	t.Setenv("SSF_SECRET", "s3cret")
	good := writeConfig(t, `
issuers:
  - issuer-uri: https://sso.example.com/realms/services
    audiences: [orders-api]
redis:
  url: redis://127.0.0.1:1/0
  prefix: "orders:"
revocation:
  fail-closed: true
  retention: 4h
  ssf:
    - path: /ssf/events
      issuer-uri: https://sso.example.com/realms/services
      audience: https://orders.example.com/ssf
      authorization-header: Bearer ${SSF_SECRET}
routes:
  - path-prefix: /orders
    policy: {scopes: [orders.read], actors: [gateway], max-delegation: 1}
  - path-prefix: /admin
    policy: {no-actor: true}
`)
	bouncer(t, "", "serve", "--check", good).wants(t, exitOK, "valid (1 issuers, 2 routes)")

	bad := writeConfig(t, `
issuers:
  - issuer-uri: https://sso.example.com/realms/services
    audiences: [orders-api]
revocation:
  fail-closed: true
  ssf:
    - path: /healthz
      issuer-uri: https://sso.example.com/realms/services
      audience: https://orders.example.com/ssf
      authorization-header: Bearer s3cret
routes:
  - path-prefix: /orders
    policy: {actors: [gateway], no-actor: true}
`)
	r := bouncer(t, "", "serve", "--check", bad)
	if r.code != exitRefused {
		t.Fatalf("exit %d:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{
		bad + ":6:16: revocation.fail-closed: is about rules shared through Redis",
		bad + ":8:13: revocation.ssf[0].path: /healthz is served already",
		bad + ":11:29: revocation.ssf[0].authorization-header: is a secret",
		bad + ":14:43: routes[0].policy.no-actor: contradicts actors",
	} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
}

// bouncer revoke, against the Redis a running bouncer serve follows (the
// same prefix), takes a token back at that gateway within a second.
func TestRevokeReachesARunningGateway(t *testing.T) {
	redisURL := startRedis(t)
	iss := newIssuer(t)
	file := writeConfig(t, fmt.Sprintf(`
issuers:
  - issuer-uri: %s
    audiences: [%s]
redis:
  url: %s
  prefix: "orders:"
revocation: {}
routes:
  - path-prefix: /orders
`, iss.URL(), bearertest.DefaultAudience, redisURL))
	s, err := gateway.NewServer(file, gateway.ServerOptions{LogOutput: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	ask := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/auth", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("X-Forwarded-Method", "GET")
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Host", "api.example.com")
		req.Header.Set("X-Forwarded-Uri", "/orders/7")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	env := map[string]string{"REDIS_URL": redisURL}
	for _, tc := range []struct {
		claims map[string]any
		args   []string
	}{
		{map[string]any{"jti": "leaked"}, []string{"jti", "--jti", "leaked"}},
		{map[string]any{"client_id": "billing"}, []string{"client", "--client", "billing"}},
	} {
		tok := iss.MustMint(t, tc.claims)
		if c := ask(tok); c != 200 {
			t.Fatalf("%v: before: %d", tc.args, c)
		}
		start := time.Now()
		args := append([]string{"revoke"}, tc.args...)
		bouncerEnv(t, env, "", append(args, "--issuer", iss.URL(), "--prefix", "orders:")...).wants(t, exitOK, "in force in every replica")
		for ask(tok) != 401 {
			if time.Since(start) > time.Second {
				t.Fatalf("%v: the gateway still accepts the token after a second", tc.args)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Logf("%v: refused %v after bouncer revoke started", tc.args, time.Since(start))
	}
}
