package bearer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// logBuffer collects JSON log lines, safely across goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) lines(msg string) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && (msg == "" || strings.HasPrefix(m["msg"].(string), msg)) {
			out = append(out, m)
		}
	}
	return out
}

func logTo(level slog.Level) (*logBuffer, *slog.Logger) {
	b := &logBuffer{}
	return b, slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: level}))
}

type eventLog struct {
	mu     sync.Mutex
	events []bearer.Event
}

func (l *eventLog) Observe(e bearer.Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) of(kind bearer.EventKind) []bearer.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []bearer.Event
	for _, e := range l.events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func TestDecisionsAreObserved(t *testing.T) {
	iss := newIssuer(t)
	obs := &eventLog{}
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Observer = obs })
	tok := iss.MustMint(t, map[string]any{"client_id": "billing", "scope": "country.read"})
	rs, _ := iss.CurrentKey("RS256")
	_, _ = v.Check(bg, withAuth("Bearer "+tok), bearer.RequireScope("country.read"))
	_, _ = v.Check(bg, withAuth("Bearer "+tok), bearer.RequireScope("country.write"))
	_, _ = v.Verify(bg, iss.MustMint(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}))
	_, _ = v.Check(bg, withAuth())

	acc := obs.of(bearer.EventAccepted)
	if len(acc) != 1 || acc[0].Status != 200 || acc[0].ClientID != "billing" || acc[0].KeyID != rs.ID() || acc[0].Alg != "RS256" || acc[0].Duration <= 0 || acc[0].Cached {
		t.Fatalf("accepted: %+v", acc)
	}
	den := obs.of(bearer.EventDenied)
	if len(den) != 1 || den[0].Status != 403 || den[0].Reason != "insufficient_scope" || den[0].ClientID != "billing" || den[0].Scope[0] != "country.write" || !den[0].Cached {
		t.Fatalf("denied: %+v", den)
	}
	ref := obs.of(bearer.EventRefused)
	if len(ref) != 2 || ref[0].Reason != "expired" || ref[1].Reason != "missing_token" || ref[0].Status != 401 {
		t.Fatalf("refused: %+v", ref)
	}
	for _, e := range obs.events {
		if e.Err != nil && strings.Contains(e.Err.Error(), tok) {
			t.Fatal("an event carries the token")
		}
	}
	iss.SetDown(true)
	down := newVerifier(t, iss, func(c *bearer.Config) { c.Observer = obs })
	_, _ = down.Verify(bg, tok)
	if u := obs.of(bearer.EventUnavailable); len(u) != 1 || u[0].Reason != "issuer_unavailable" || u[0].Status != 503 {
		t.Fatalf("unavailable: %+v", u)
	}
}

// Refusals are logged one by one at Debug only, and summarised at Info a
// minute after the first of them; Close writes the summary due.
func TestRefusalsAreSummarised(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t, bearertest.WithClock(clk.Now))
	logs, logger := logTo(slog.LevelInfo)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Now, c.Logger = clk.Now, logger })
	expired := iss.MustMint(t, map[string]any{"exp": clk.Now().Add(-time.Hour).Unix()})
	for range 18 {
		_, _ = v.Verify(bg, expired)
		_, _ = v.Verify(bg, "garbage")
	}
	if n := len(logs.lines("bearer: request refused")); n != 0 {
		t.Fatalf("%d refusals logged at Info", n)
	}
	if n := len(logs.lines("bearer: refusals")); n != 0 {
		t.Fatal("a summary before a minute passed")
	}
	_ = v.Close()
	_ = v.Close()
	sum := logs.lines("bearer: refusals")
	if len(sum) != 1 || sum[0]["level"] != "INFO" || sum[0]["expired"] != float64(18) || sum[0]["malformed"] != float64(18) || sum[0]["refused"] != float64(36) {
		t.Fatalf("summary %v", sum)
	}
	debug, dlog := logTo(slog.LevelDebug)
	dv := newVerifier(t, iss, func(c *bearer.Config) { c.Logger = dlog })
	_, _ = dv.Verify(bg, "garbage")
	if n := len(debug.lines("bearer: request refused")); n != 1 {
		t.Fatalf("%d refusals at Debug; want 1", n)
	}
}

// A burst of refusals followed by quiet is summarised when its window
// ends, without a later refusal to prompt it, by a Verifier and by a
// MultiVerifier alike.
func TestBurstThenQuietIsSummarised(t *testing.T) {
	iss := newIssuer(t)
	for _, multi := range []bool{false, true} {
		logs, logger := logTo(slog.LevelInfo)
		var v interface {
			Verify(context.Context, string) (*bearer.Claims, error)
			Close() error
		}
		if multi {
			m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: logger}}})
			if err != nil {
				t.Fatal(err)
			}
			v = m
		} else {
			v = newVerifier(t, iss, func(c *bearer.Config) { c.Logger = logger })
		}
		bearer.SummariseEvery(v, 50*time.Millisecond)
		for range 5 {
			_, _ = v.Verify(bg, "garbage")
		}
		waitFor(t, func() bool { return len(logs.lines("bearer: refusals")) == 1 })
		if sum := logs.lines("bearer: refusals"); sum[0]["malformed"] != float64(5) {
			t.Fatalf("multi %v: summary %v", multi, sum)
		}
		_ = v.Close()
		if n := len(logs.lines("bearer: refusals")); n != 1 {
			t.Fatalf("multi %v: %d summaries after Close with nothing left to say", multi, n)
		}
	}
}

// Keycloak's encryption key is expected: one Debug line, never a warning,
// not again on the next refresh.
func TestExpectedSkippedKeysAreQuiet(t *testing.T) {
	kc, err := os.ReadFile("../../testdata/jwks/keycloak-realm.json")
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	iss := newIssuer(t)
	iss.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(kc) }))
	logs, logger := logTo(slog.LevelDebug)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Now, c.Logger = clk.Now, logger })
	for range 3 {
		_ = v.Ready(bg)
		clk.Advance(10 * time.Minute)
		_, _ = v.Verify(bg, iss.MustMint(t, nil))
		waitFor(t, func() bool { return v.Status().Failures == 0 })
	}
	var skipped []map[string]any
	for _, l := range logs.lines("bearer: issuer keys") {
		if l["event"] == "key_skipped" {
			skipped = append(skipped, l)
		}
	}
	if len(skipped) != 1 || skipped[0]["level"] != "DEBUG" {
		t.Fatalf("skipped-key lines: %v", skipped)
	}
}

// Configuration mistakes are logged loudly once, with what to change.
func TestConfigurationMistakesAreLoggedOnce(t *testing.T) {
	iss := newIssuer(t)
	logs, logger := logTo(slog.LevelInfo)
	wrong, err := bearer.New(bearer.Config{Issuer: iss.URL() + "/", Audiences: []string{testAudience}, Logger: logger, FetchTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_ = wrong.Ready(bg)
		time.Sleep(1100 * time.Millisecond)
	}
	m := logs.lines("bearer: the issuer's discovery document names another issuer")
	if len(m) != 1 || m[0]["level"] != "ERROR" || m[0]["document"] != iss.URL() {
		t.Fatalf("mismatch lines: %v", m)
	}

	v := newVerifier(t, iss, func(c *bearer.Config) { c.Audiences, c.Logger = []string{"country-api-typo"}, logger })
	tok := iss.MustMint(t, map[string]any{"aud": []string{"account", testAudience}})
	for range 15 {
		_, _ = v.Verify(bg, tok)
	}
	a := logs.lines("bearer: every token so far names another audience")
	if len(a) != 1 || a[0]["level"] != "WARN" {
		t.Fatalf("audience lines: %v", a)
	}
	if aud, _ := a[0]["token_aud"].([]any); len(aud) != 2 || aud[1] != testAudience {
		t.Fatalf("token_aud %v", a[0]["token_aud"])
	}
}
