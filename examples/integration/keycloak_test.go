package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// TestKeycloak runs every example API, configured as the set-up guide
// says (ISSUER_URL the realm, AUDIENCE country-api), against a real
// Keycloak whose realm was made from the guide's own files, with tokens
// from its token endpoint: the guide's client with client_secret_basic and
// client_secret_post, a token without the Audience mapper (aud "account"),
// a token without the scope, and one with the RFC 9068 header type. The
// HTTP examples must answer each alike; the gRPC and MCP servers are
// called by the client example, as a user would.
func TestKeycloak(t *testing.T) {
	kc := sharedKeycloak(t)
	cfg := configFromEnv(t, map[string]string{"ISSUER_URL": kc.issuer, "AUDIENCE": kcAudience, "RESOURCE_URL": resourceURL})
	d := startDoors(t, cfg)

	basic := kc.token(t, kcCountryClient, kcCountrySecret, oauth2.AuthStyleInHeader)
	post := kc.token(t, kcCountryClient, kcCountrySecret, oauth2.AuthStyleInParams)
	plain := kc.testClientToken(t, kcPlainClient)
	limited := kc.testClientToken(t, kcLimitedClient)
	rfc9068 := kc.testClientToken(t, kcRFC9068Client)
	if typ := headerField(t, basic, "typ"); typ != "JWT" {
		t.Errorf("Keycloak's header typ = %q, want JWT", typ)
	}
	if typ := headerField(t, rfc9068, "typ"); typ != "at+jwt" {
		t.Errorf("with access.token.header.type.rfc9068 the header typ = %q, want at+jwt", typ)
	}
	if aud := claimsOf(t, plain)["aud"]; aud != "account" {
		t.Errorf("without the Audience mapper aud = %v, want Keycloak's account", aud)
	}

	accepted := []struct{ name, token string }{
		{"client_secret_basic", basic},
		{"client_secret_post", post},
		{"RFC 9068 header", rfc9068},
	}
	refused := []struct {
		name, token string
		status      int
		params      []string
	}{
		{"no audience mapper", plain, http.StatusUnauthorized, []string{`error="invalid_token"`, `error_description="the token is not meant for this API"`}},
		{"no scope", limited, http.StatusForbidden, []string{`error="insufficient_scope"`, `scope="country.read"`}},
	}
	for i, ex := range examples {
		base := d.http[i]
		t.Run(ex.name, func(t *testing.T) {
			for _, c := range accepted {
				r := get(t, base+"/country/code/AUS", c.token)
				r.wantStatus(t, http.StatusOK)
				r.wantBody(t, ausJSON)
			}
			r := get(t, base+"/api/data", basic)
			r.wantStatus(t, http.StatusOK)
			checkTokenInfo(t, r.body, kcCountryClient, []string{kcAudience, "account"}, []string{"country.read"})
			for _, c := range refused {
				r := get(t, base+"/country/code/AUS", c.token)
				r.wantStatus(t, c.status)
				r.wantChallenge(t, c.params...)
			}
		})
	}
	t.Run("all answer alike", func(t *testing.T) {
		for _, tok := range []string{basic, post, rfc9068, plain, limited} {
			wantAlike(t, d.http, "/country/code/AUS", "Bearer "+tok)
		}
		wantAlike(t, d.http, "/api/data", "Bearer "+basic)
	})
	clientEnv := func(id, secret string) map[string]string {
		return map[string]string{"ISSUER_URL": kc.issuer, "CLIENT_ID": id, "CLIENT_SECRET": secret}
	}
	for _, door := range []string{"grpc", "mcp"} {
		t.Run(door, func(t *testing.T) {
			d.wantLookup(t, kc.client, door, clientEnv(kcCountryClient, kcCountrySecret))
			d.wantLookup(t, kc.client, door, clientEnv(kcRFC9068Client, kcTestSecret))
			d.wantRefused(t, kc.client, door, clientEnv(kcPlainClient, kcTestSecret), "Unauthenticated", "Unauthorized")
			d.wantRefused(t, kc.client, door, clientEnv(kcLimitedClient, kcTestSecret), "PermissionDenied", "Forbidden")
		})
	}

	// The realm kcadm.sh made, the guide's other way, works alike.
	t.Run("realm made by kcadm.sh", func(t *testing.T) {
		cfg := configFromEnv(t, map[string]string{"ISSUER_URL": kc.kcadmIssuer, "AUDIENCE": kcAudience, "RESOURCE_URL": resourceURL})
		d := startDoors(t, cfg)
		tok := kc.tokenFrom(t, kc.kcadmIssuer, kcCountryClient, kc.kcadmSecret, oauth2.AuthStyleInHeader)
		for i, ex := range examples {
			t.Run(ex.name, func(t *testing.T) {
				r := get(t, d.http[i]+"/country/code/AUS", tok)
				r.wantStatus(t, http.StatusOK)
				r.wantBody(t, ausJSON)
			})
		}
		env := map[string]string{"ISSUER_URL": kc.kcadmIssuer, "CLIENT_ID": kcCountryClient, "CLIENT_SECRET": kc.kcadmSecret}
		d.wantLookup(t, kc.client, "grpc", env)
		d.wantLookup(t, kc.client, "mcp", env)
	})

	// The RFC 9068 header type lets an API that requires it tell access
	// tokens from Keycloak's other JWTs; Keycloak's default typ JWT is
	// then refused.
	t.Run("RequireAccessTokenType", func(t *testing.T) {
		bc := cfg.BearerConfig(quietLogger())
		bc.RequireAccessTokenType = true
		v, err := bearer.New(bc)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(t.Context(), rfc9068); err != nil {
			t.Errorf("at+jwt token: %v", err)
		}
		if _, err := v.Verify(t.Context(), basic); err == nil {
			t.Error("a typ JWT token was accepted with RequireAccessTokenType")
		}
	})
}

// Keycloak publishes, beside its signing key, an RSA-OAEP key with use
// enc. bouncer skips it quietly: an event for observers, a Debug line,
// nothing at Warn, and the signing key serves.
func TestKeycloakEncryptionKeySkippedQuietly(t *testing.T) {
	kc := sharedKeycloak(t)
	var jwks struct {
		Keys []struct{ Kid, Alg, Use string } `json:"keys"`
	}
	getJSONFrom(t, kc.client, kc.issuer+"/protocol/openid-connect/certs", &jwks)
	var encKid string
	for _, k := range jwks.Keys {
		if k.Use == "enc" {
			encKid = k.Kid
		}
	}
	if encKid == "" {
		t.Fatalf("Keycloak published no enc key: %+v", jwks.Keys)
	}
	cfg := configFromEnv(t, map[string]string{"ISSUER_URL": kc.issuer, "AUDIENCE": kcAudience})
	logs := &recordingHandler{}
	bc := cfg.BearerConfig(slog.New(logs))
	var mu sync.Mutex
	var skipped []bearer.Event
	bc.Observer = bearer.ObserverFunc(func(e bearer.Event) {
		if e.Kind == bearer.EventKeySkipped {
			mu.Lock()
			skipped = append(skipped, e)
			mu.Unlock()
		}
	})
	v, err := bearer.New(bc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), kc.token(t, kcCountryClient, kcCountrySecret, oauth2.AuthStyleInHeader)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(skipped) != 1 || skipped[0].KeyID != encKid {
		t.Errorf("skipped keys %+v, want the enc key %s alone", skipped, encKid)
	}
	for _, r := range logs.records() {
		if r.Level >= slog.LevelWarn {
			t.Errorf("logged at %v: %s", r.Level, r.Message)
		}
	}
}

// recordingHandler keeps every log record.
type recordingHandler struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }
func (h *recordingHandler) records() []slog.Record {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]slog.Record(nil), h.recs...)
}

func getJSONFrom(t *testing.T, hc *http.Client, url string, out any) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// headerField reads a member of a JWT's header.
func headerField(t *testing.T, tok, name string) any {
	t.Helper()
	return jwtPart(t, tok, 0)[name]
}

// claimsOf reads a JWT's claims, unverified.
func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	return jwtPart(t, tok, 1)
}

func jwtPart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d segments", len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
