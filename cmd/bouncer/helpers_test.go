package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// result is one in-process run of the command.
type result struct {
	code           int
	stdout, stderr string
}

func bouncer(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errs bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errs)
	return result{code, out.String(), errs.String()}
}

// wants fails the test unless the run ended with code and its standard
// output holds every one of lines.
func (r result) wants(t *testing.T, code int, lines ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	for _, l := range lines {
		if !strings.Contains(r.stdout, l) {
			t.Errorf("stdout lacks %q:\n%s\nstderr:\n%s", l, r.stdout, r.stderr)
		}
	}
}

// step is the report's line of the named step, marks and all, and the
// lines of its hint.
func (r result) step(t *testing.T, name string) string {
	t.Helper()
	lines := strings.Split(r.stdout, "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || f[1] != name {
			continue
		}
		out := strings.TrimSpace(l)
		for _, more := range lines[i+1:] {
			if !strings.HasPrefix(more, strings.Repeat(" ", 15)) {
				break
			}
			out += " " + strings.TrimSpace(more)
		}
		return out
	}
	t.Fatalf("no step %s in:\n%s", name, r.stdout)
	return ""
}

// wantStep fails the test unless the named step carries mark (✓, ✗ or ·)
// and holds every one of parts.
func (r result) wantStep(t *testing.T, name, mark string, parts ...string) {
	t.Helper()
	s := r.step(t, name)
	if !strings.HasPrefix(s, mark+" ") {
		t.Errorf("step %s is %q, want mark %s", name, s, mark)
	}
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("step %s is %q, lacks %q", name, s, p)
		}
	}
}

func newIssuer(t *testing.T, opts ...bearertest.Option) *bearertest.Issuer {
	t.Helper()
	iss, err := bearertest.NewIssuer(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	return iss
}

// checkArgs are the flags of an API that trusts iss with bearertest's
// default audience, followed by more.
func checkArgs(iss *bearertest.Issuer, more ...string) []string {
	return append([]string{"check", "--issuer", iss.URL(), "--audience", bearertest.DefaultAudience}, more...)
}

// jwksHandler serves set as the issuer's JWKS, cacheable for five minutes.
func jwksHandler(set bearertest.JWKSet) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_ = json.NewEncoder(w).Encode(set)
	})
}
