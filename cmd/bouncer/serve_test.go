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
