package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
