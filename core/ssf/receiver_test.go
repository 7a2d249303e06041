package ssf_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/ssf"
)

const receiverAudience = "https://orders.example.com/ssf"

var (
	bg    = context.Background()
	quiet = slog.New(slog.DiscardHandler)
)

// rig is a transmitter (the in-process issuer, which also issues the
// access tokens), an API verifying its tokens with a Revoker, and the
// Receiver feeding that Revoker, served over HTTP.
type rig struct {
	iss      *bearertest.Issuer
	revoker  *bearer.Revoker
	api      *bearer.Verifier
	receiver *ssf.Receiver
	url      string
	heard    *heard
}

func newRig(t *testing.T, edit func(*ssf.Config), opts ...bearertest.Option) *rig {
	t.Helper()
	iss, err := bearertest.NewIssuer(append([]bearertest.Option{bearertest.WithSSFTransmitter()}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	r := &rig{iss: iss, heard: &heard{}}
	if r.revoker, err = bearer.NewRevoker(bearer.RevokerConfig{Logger: quiet, Observer: r.heard}); err != nil {
		t.Fatal(err)
	}
	if r.api, err = bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{bearertest.DefaultAudience}, Revocation: r.revoker, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	cfg := ssf.Config{
		Transmitter: bearer.Config{Issuer: iss.URL(), Audiences: []string{receiverAudience}, Logger: quiet},
		Revocations: r.revoker,
	}
	if edit != nil {
		edit(&cfg)
	}
	if r.receiver, err = ssf.New(cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.receiver.Close() })
	srv := httptest.NewServer(r.receiver)
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// push delivers a SET as a transmitter does.
func (r *rig) push(t *testing.T, set string, header ...string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.url, strings.NewReader(set))
	req.Header.Set("Content-Type", "application/secevent+jwt")
	req.Header.Set("Accept", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

func (r *rig) mintSET(t *testing.T, subID map[string]any, events map[string]any, opts ...bearertest.MintOption) string {
	t.Helper()
	set, err := r.iss.MintSET(receiverAudience, subID, events, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// wantAccepted asserts RFC 8935's success: 202, no body.
func wantAccepted(t *testing.T, status int, body []byte) {
	t.Helper()
	if status != http.StatusAccepted || len(body) != 0 {
		t.Fatalf("status %d, body %q; want 202 and no body", status, body)
	}
}

// wantError asserts RFC 8935's failure: 400, a JSON body of err and
// description, in English.
func wantError(t *testing.T, status int, h http.Header, body []byte, code ssf.Code) {
	t.Helper()
	if status != http.StatusBadRequest || h.Get("Content-Type") != "application/json" || h.Get("Content-Language") != "en" {
		t.Fatalf("status %d, Content-Type %q, Content-Language %q; want 400 application/json en (body %s)", status, h.Get("Content-Type"), h.Get("Content-Language"), body)
	}
	var got map[string]string
	if err := json.Unmarshal(body, &got); err != nil || len(got) != 2 || got["err"] != string(code) || got["description"] == "" {
		t.Fatalf("body %s; want err %s and a description", body, code)
	}
}

func (r *rig) accepts(t *testing.T, tok string) error {
	t.Helper()
	_, err := r.api.Verify(bg, tok)
	return err
}

func keycloakUser(iss, sub string) map[string]any {
	return map[string]any{"format": "iss_sub", "iss": iss, "sub": sub}
}

// Each event that calls for it takes back the tokens its subject names,
// issued up to the event; tokens obtained afterwards are accepted.
func TestEventsRevokeTokens(t *testing.T) {
	r := newRig(t, nil)
	iss := r.iss.URL()
	for _, tc := range []struct {
		name   string
		subID  map[string]any
		event  string
		claims map[string]any // of the token the event takes back
		body   map[string]any // the event's own members
	}{
		{"Keycloak session-revoked: complex user and session", map[string]any{
			"format":  "complex",
			"user":    keycloakUser(iss, "user-1"),
			"session": map[string]any{"format": "opaque", "id": "287f3c57-32b8-4c0f-8b00-8c7db231d701"},
		}, bearertest.EventSessionRevoked, map[string]any{"sub": "user-1", "client_id": "web"}, map[string]any{"initiating_entity": "admin"}},
		{"Keycloak credential-change: iss_sub", keycloakUser(iss, "user-2"), bearertest.EventCredentialChange,
			map[string]any{"sub": "user-2", "client_id": "web"}, map[string]any{"change_type": "update", "credential_type": "password"}},
		{"account-disabled: opaque subject of the transmitter", map[string]any{"format": "opaque", "id": "user-3"}, bearertest.EventAccountDisabled,
			map[string]any{"sub": "user-3", "client_id": "web"}, map[string]any{"reason": "hijacking"}},
		{"credential-compromise: a service account's client", map[string]any{
			"format": "complex", "application": map[string]any{"format": "opaque", "id": "billing"},
		}, bearertest.EventCredentialCompromise, map[string]any{"sub": "service-account-billing", "client_id": "billing"}, map[string]any{"credential_type": "client_secret"}},
		{"aliases: the first usable identifier", map[string]any{
			"format": "aliases", "identifiers": []any{map[string]any{"format": "email", "email": "ada@example.com"}, keycloakUser(iss, "user-4")},
		}, bearertest.EventAccountDisabled, map[string]any{"sub": "user-4"}, map[string]any{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok := r.iss.MustMint(t, tc.claims)
			if err := r.accepts(t, tok); err != nil {
				t.Fatal(err)
			}
			ev := map[string]any{"event_timestamp": time.Now().Unix()}
			for k, v := range tc.body {
				ev[k] = v
			}
			status, _, body := r.push(t, r.mintSET(t, tc.subID, map[string]any{tc.event: ev}))
			wantAccepted(t, status, body)
			err := r.accepts(t, tok)
			if !errors.Is(err, bearer.ErrRevoked) {
				t.Fatalf("after the event: %v", err)
			}
			var re *bearer.RevokedError
			if !errors.As(err, &re) || re.Rule.Source != "ssf" || re.Rule.Reason != tc.event {
				t.Fatalf("rule %+v", re)
			}
			time.Sleep(1100 * time.Millisecond) // the next second's tokens are after the event
			if err := r.accepts(t, r.iss.MustMint(t, tc.claims)); err != nil {
				t.Fatalf("a token issued after the event: %v", err)
			}
		})
	}
}

// A jwt_id identifier takes back one token, whatever the event.
func TestJWTIDRevokesOneToken(t *testing.T) {
	r := newRig(t, nil)
	tok := r.iss.MustMint(t, map[string]any{"jti": "leaked", "sub": "user-1"})
	other := r.iss.MustMint(t, map[string]any{"jti": "fine", "sub": "user-1"})
	status, _, body := r.push(t, r.mintSET(t, map[string]any{"format": "jwt_id", "iss": r.iss.URL(), "jti": "leaked"},
		map[string]any{bearertest.EventCredentialCompromise: map[string]any{"credential_type": "bearer"}}))
	wantAccepted(t, status, body)
	if err := r.accepts(t, tok); !errors.Is(err, bearer.ErrRevoked) {
		t.Fatalf("the token named: %v", err)
	}
	if err := r.accepts(t, other); err != nil {
		t.Fatalf("another token of the subject: %v", err)
	}
}

// Events placed the way CAEP and RISC put them before the framework moved
// the subject to sub_id are read too.
func TestSubjectInsideTheEvent(t *testing.T) {
	r := newRig(t, nil)
	tok := r.iss.MustMint(t, map[string]any{"sub": "user-1"})
	status, _, body := r.push(t, r.mintSET(t, nil, map[string]any{bearertest.EventAccountDisabled: map[string]any{
		"subject": keycloakUser(r.iss.URL(), "user-1"),
	}}))
	wantAccepted(t, status, body)
	if err := r.accepts(t, tok); !errors.Is(err, bearer.ErrRevoked) {
		t.Fatalf("after the event: %v", err)
	}
}

// Events that call for no revocation, or whose subject cannot name a
// token's subject, are accepted and change nothing.
func TestEventsWithoutEffect(t *testing.T) {
	r := newRig(t, nil)
	iss := r.iss.URL()
	for _, tc := range []struct {
		name   string
		subID  map[string]any
		events map[string]any
	}{
		{"the framework's verification", map[string]any{"format": "opaque", "id": "stream-1"}, map[string]any{bearertest.EventVerification: map[string]any{"state": "VGhpcw"}}},
		{"account-enabled", keycloakUser(iss, "user-1"), map[string]any{"https://schemas.openid.net/secevent/risc/event-type/account-enabled": map[string]any{}}},
		{"an email subject", map[string]any{"format": "email", "email": "ada@example.com"}, map[string]any{bearertest.EventAccountDisabled: map[string]any{}}},
		{"no subject at all", nil, map[string]any{bearertest.EventSessionRevoked: map[string]any{}}},
		{"a complex subject with a session only", map[string]any{"format": "complex", "session": map[string]any{"format": "opaque", "id": "s"}}, map[string]any{bearertest.EventSessionRevoked: map[string]any{}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := r.push(t, r.mintSET(t, tc.subID, tc.events))
			wantAccepted(t, status, body)
			if n := len(r.revoker.Rules()); n != 0 {
				t.Fatalf("%d rules", n)
			}
		})
	}
}

// Every way a push or its SET can be wrong gets RFC 8935's answer.
func TestRefusals(t *testing.T) {
	r := newRig(t, func(c *ssf.Config) { c.Issuers = []string{c.Transmitter.Issuer} })
	iss := r.iss.URL()
	stranger, err := bearertest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	ev := map[string]any{bearertest.EventAccountDisabled: map[string]any{}}
	sub := keycloakUser(iss, "user-1")
	good := r.mintSET(t, sub, ev)
	parts := strings.Split(good, ".")
	raw := func(claims string, opts ...bearertest.MintOption) string {
		tok, err := r.iss.MintPayload([]byte(claims), append([]bearertest.MintOption{bearertest.WithHeader("typ", "secevent+jwt")}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	now := time.Now().Unix()
	claims := func(extra string) string {
		return `{"iss":"` + iss + `","aud":"` + receiverAudience + `","iat":` + jsonInt(now) + `,"jti":"j-` + extra + `","sub_id":{"format":"opaque","id":"u"},"events":{"` + bearertest.EventAccountDisabled + `":{}}` + extra + `}`
	}
	for _, tc := range []struct {
		name string
		set  string
		code ssf.Code
	}{
		{"garbage", "not-a-set", ssf.InvalidRequest},
		{"an access token", r.iss.MustMint(t, nil), ssf.InvalidRequest},
		{"no typ", r.mintSET(t, sub, ev, bearertest.WithHeader("typ", nil)), ssf.InvalidRequest},
		{"typ JWT", r.mintSET(t, sub, ev, bearertest.WithHeader("typ", "JWT")), ssf.InvalidRequest},
		{"typ application/secevent+jwt", r.mintSET(t, sub, ev, bearertest.WithHeader("typ", "application/secevent+jwt")), ""},
		{"alg none", r.mintSET(t, sub, ev, bearertest.WithAlg("none")), ssf.InvalidKey},
		{"unknown key", r.mintSET(t, sub, ev, bearertest.WithKey(stranger)), ssf.InvalidKey},
		{"bad signature", parts[0] + "." + parts[1] + "." + strings.Split(r.mintSET(t, sub, ev), ".")[2], ssf.InvalidKey},
		{"another issuer", raw(strings.Replace(claims(""), `"iss":"`+iss, `"iss":"https://other.example`, 1)), ssf.InvalidIssuer},
		{"another audience", raw(strings.Replace(claims(""), receiverAudience, "https://other.example/ssf", 1)), ssf.InvalidAudience},
		{"no iat", raw(strings.Replace(claims(""), `"iat":`+jsonInt(now)+`,`, "", 1)), ssf.InvalidRequest},
		{"iat two hours ago", raw(strings.Replace(claims(""), jsonInt(now), jsonInt(now-7200), 1)), ssf.InvalidRequest},
		{"iat in the future", raw(strings.Replace(claims(""), jsonInt(now), jsonInt(now+600), 1)), ssf.InvalidRequest},
		{"expired", raw(claims(`,"exp":` + jsonInt(now-600))), ssf.InvalidRequest},
		{"not yet valid", raw(claims(`,"nbf":` + jsonInt(now+600))), ssf.InvalidRequest},
		{"no jti", raw(strings.Replace(claims(""), `"jti":"j-",`, "", 1)), ssf.InvalidRequest},
		{"no events", raw(`{"iss":"` + iss + `","aud":"` + receiverAudience + `","iat":` + jsonInt(now) + `,"jti":"x"}`), ssf.InvalidRequest},
		{"events not an object", raw(`{"iss":"` + iss + `","aud":"` + receiverAudience + `","iat":` + jsonInt(now) + `,"jti":"x","events":[]}`), ssf.InvalidRequest},
		{"no event", raw(`{"iss":"` + iss + `","aud":"` + receiverAudience + `","iat":` + jsonInt(now) + `,"jti":"x","events":{}}`), ssf.InvalidRequest},
		{"an event not an object", raw(`{"iss":"` + iss + `","aud":"` + receiverAudience + `","iat":` + jsonInt(now) + `,"jti":"x","events":{"urn:x":true}}`), ssf.InvalidRequest},
		{"a subject without format", raw(strings.Replace(claims(""), `{"format":"opaque","id":"u"}`, `{"id":"u"}`, 1)), ssf.InvalidRequest},
		{"iss_sub without sub", raw(strings.Replace(claims(""), `{"format":"opaque","id":"u"}`, `{"format":"iss_sub","iss":"x"}`, 1)), ssf.InvalidRequest},
		{"a repeated member", raw(strings.Replace(claims(""), `"jti":"j-"`, `"jti":"a","jti":"b"`, 1)), ssf.InvalidRequest},
		{"a subject of another issuer", r.mintSET(t, keycloakUser("https://other.example", "user-1"), ev), ssf.AccessDenied},
		{"a token of another issuer", r.mintSET(t, map[string]any{"format": "jwt_id", "iss": "https://other.example", "jti": "x"}, ev), ssf.AccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := r.push(t, tc.set)
			if tc.code == "" {
				wantAccepted(t, status, body)
				return
			}
			wantError(t, status, h, body, tc.code)
		})
	}
	t.Run("no rule was applied", func(t *testing.T) {
		if got := r.revoker.Rules(); len(got) != 1 { // the accepted application/secevent+jwt one
			t.Fatalf("rules %+v", got)
		}
	})
	t.Run("GET", func(t *testing.T) {
		resp, err := http.Get(r.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "POST" {
			t.Fatalf("GET: %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
	t.Run("wrong Content-Type", func(t *testing.T) {
		status, h, body := r.push(t, good, "Content-Type", "application/jwt")
		wantError(t, status, h, body, ssf.InvalidRequest)
	})
	t.Run("too large", func(t *testing.T) {
		status, h, body := r.push(t, strings.Repeat("a", 65<<10))
		wantError(t, status, h, body, ssf.InvalidRequest)
	})
}

// A SET is verified as strictly as an access token, and is never one: the
// API refuses it as a bearer token.
func TestASETIsNoAccessToken(t *testing.T) {
	r := newRig(t, nil)
	set, err := r.iss.MintSET(bearertest.DefaultAudience, keycloakUser(r.iss.URL(), "u"), map[string]any{bearertest.EventAccountDisabled: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.api.Verify(bg, set); !errors.Is(err, bearer.ErrType) {
		t.Fatalf("the API took a SET for an access token: %v", err)
	}
}

// With an Authorization header configured, a push without it is refused
// before its body is read.
func TestPushAuthorization(t *testing.T) {
	r := newRig(t, func(c *ssf.Config) { c.AuthorizationHeader = "Bearer s3cret" })
	set := r.mintSET(t, keycloakUser(r.iss.URL(), "u"), map[string]any{bearertest.EventAccountDisabled: map[string]any{}})
	for _, h := range [][]string{nil, {"Authorization", "Bearer wrong"}, {"Authorization", "bearer s3cret"}} {
		status, hdr, body := r.push(t, "junk", h...)
		wantError(t, status, hdr, body, ssf.AuthenticationFailed)
	}
	status, _, body := r.push(t, set, "Authorization", "Bearer s3cret")
	wantAccepted(t, status, body)
}

// A SET delivered again is accepted and changes nothing; the revocation
// was reported once.
func TestDuplicateDelivery(t *testing.T) {
	r := newRig(t, nil)
	set := r.mintSET(t, keycloakUser(r.iss.URL(), "u"), map[string]any{bearertest.EventAccountDisabled: map[string]any{}})
	for range 3 {
		status, _, body := r.push(t, set)
		wantAccepted(t, status, body)
	}
	if n := r.heard.count(bearer.EventRevocationReceived); n != 1 {
		t.Fatalf("%d revocations reported", n)
	}
}

// A transmitter whose keys cannot be fetched gets 503 with Retry-After:
// its SET was not judged, and must be delivered again.
func TestTransmitterDown(t *testing.T) {
	r := newRig(t, nil)
	set := r.mintSET(t, keycloakUser(r.iss.URL(), "u"), map[string]any{bearertest.EventAccountDisabled: map[string]any{}})
	r.iss.SetDown(true)
	status, h, _ := r.push(t, set)
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Fatalf("status %d, Retry-After %q", status, h.Get("Retry-After"))
	}
	r.iss.SetDown(false)
	time.Sleep(1100 * time.Millisecond) // the key source's backoff
	status, _, body := r.push(t, set)
	wantAccepted(t, status, body)
}

// A revocation store that cannot take the revocations makes the push 503,
// and the SET delivered again is applied, not taken for a duplicate.
func TestSinkFailureIsRetried(t *testing.T) {
	sink := &flakySink{fail: true}
	r := newRig(t, func(c *ssf.Config) { sink.next = c.Revocations; c.Revocations = sink })
	tok := r.iss.MustMint(t, map[string]any{"sub": "u"})
	set := r.mintSET(t, keycloakUser(r.iss.URL(), "u"), map[string]any{bearertest.EventAccountDisabled: map[string]any{}})
	status, h, _ := r.push(t, set)
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" {
		t.Fatalf("status %d", status)
	}
	sink.set(false)
	status, _, body := r.push(t, set)
	wantAccepted(t, status, body)
	if err := r.accepts(t, tok); !errors.Is(err, bearer.ErrRevoked) {
		t.Fatalf("the retried SET was not applied: %v", err)
	}
}

// The transmitter's keys are found through its Shared Signals metadata,
// or, for a transmitter that publishes none, its OpenID Connect metadata.
func TestTransmitterDiscovery(t *testing.T) {
	for _, publishes := range []bool{true, false} {
		r := newRigWithout(t)
		if publishes {
			r = newRig(t, nil)
		}
		status, _, body := r.push(t, r.mintSET(t, keycloakUser(r.iss.URL(), "u"), map[string]any{bearertest.EventAccountDisabled: map[string]any{}}))
		wantAccepted(t, status, body)
		if got := r.iss.DiscoveryFetches() > 0; got == publishes {
			t.Fatalf("SSF metadata published %v: OpenID Connect discovery fetched %v", publishes, got)
		}
	}
}

// newRigWithout is a rig whose transmitter publishes no SSF metadata.
func newRigWithout(t *testing.T) *rig {
	t.Helper()
	iss, err := bearertest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	r := &rig{iss: iss, heard: &heard{}}
	r.revoker, _ = bearer.NewRevoker(bearer.RevokerConfig{Logger: quiet})
	r.api, _ = bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{bearertest.DefaultAudience}, Revocation: r.revoker, Logger: quiet})
	if r.receiver, err = ssf.New(ssf.Config{Transmitter: bearer.Config{Issuer: iss.URL(), Audiences: []string{receiverAudience}, Logger: quiet}, Revocations: r.revoker}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.receiver)
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

func TestConfigRefused(t *testing.T) {
	revoker, _ := bearer.NewRevoker(bearer.RevokerConfig{})
	tx := bearer.Config{Issuer: "https://sso.example.com", Audiences: []string{receiverAudience}}
	for name, cfg := range map[string]ssf.Config{
		"no sink":           {Transmitter: tx},
		"no audience":       {Transmitter: bearer.Config{Issuer: tx.Issuer}, Revocations: revoker},
		"no issuer":         {Transmitter: bearer.Config{Audiences: tx.Audiences}, Revocations: revoker},
		"access-token DPoP": {Transmitter: func() bearer.Config { c := tx; c.DPoP = &bearer.DPoP{PublicURL: "https://x"}; return c }(), Revocations: revoker},
		"validators":        {Transmitter: func() bearer.Config { c := tx; c.Validators = []bearer.Validator{bearer.RequireClaim("x")}; return c }(), Revocations: revoker},
		"negative MaxAge":   {Transmitter: tx, Revocations: revoker, MaxAge: -time.Second},
		"two replay stores": {Transmitter: tx, Revocations: revoker, Replay: nopReplay{}, ReplayCapacity: 10},
	} {
		if _, err := ssf.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

type nopReplay struct{}

func (nopReplay) Remember(context.Context, string, time.Duration) (bool, error) { return true, nil }

// flakySink fails while fail is set, then passes rules on to next.
type flakySink struct {
	mu   sync.Mutex
	fail bool
	next bearer.RevocationSink
}

func (f *flakySink) set(fail bool) { f.mu.Lock(); f.fail = fail; f.mu.Unlock() }

func (f *flakySink) Revoke(ctx context.Context, rules ...bearer.Revocation) error {
	f.mu.Lock()
	fail := f.fail
	f.mu.Unlock()
	if fail {
		return errors.New("the store is down")
	}
	return f.next.Revoke(ctx, rules...)
}

// heard counts what an Observer hears.
type heard struct {
	mu  sync.Mutex
	all []bearer.Event
}

func (h *heard) Observe(e bearer.Event) { h.mu.Lock(); h.all = append(h.all, e); h.mu.Unlock() }

func (h *heard) count(k bearer.EventKind) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, e := range h.all {
		if e.Kind == k {
			n++
		}
	}
	return n
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
