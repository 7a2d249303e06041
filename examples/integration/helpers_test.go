package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

const ausJSON = `{"code":"AUS","name":"AUSTRALIA"}`

// requestTimeout bounds every request a test makes, so that a hung server
// fails the test instead of stalling the run.
const requestTimeout = 15 * time.Second

var testClient = &http.Client{Timeout: requestTimeout}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// configFromEnv is the examples' configuration from env, as their
// commands read it from the environment.
func configFromEnv(t *testing.T, env map[string]string) countryapi.Config {
	t.Helper()
	cfg, err := countryapi.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

type response struct {
	status int
	header http.Header
	body   string
}

// get sends GET url with token as a bearer token, or with no token when
// token is "".
func get(t *testing.T, url, token string) response {
	t.Helper()
	auth := ""
	if token != "" {
		auth = "Bearer " + token
	}
	return getAuth(t, url, auth)
}

// getAuth sends GET url with auth as the Authorization header, or with
// none when auth is "".
func getAuth(t *testing.T, url, auth string) response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return response{resp.StatusCode, resp.Header, string(body)}
}

// wantStatus checks the status and that the answer is JSON.
func (r response) wantStatus(t *testing.T, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s; WWW-Authenticate %q", r.status, status, r.body, r.header.Get("WWW-Authenticate"))
	}
	if ct := r.header.Get("Content-Type"); ct != countryapi.ContentType {
		t.Errorf("Content-Type = %q, want %s", ct, countryapi.ContentType)
	}
}

func (r response) wantBody(t *testing.T, body string) {
	t.Helper()
	if r.body != body {
		t.Errorf("body = %s, want %s", r.body, body)
	}
}

// wantChallenge checks that WWW-Authenticate holds every one of params.
func (r response) wantChallenge(t *testing.T, params ...string) {
	t.Helper()
	c := r.header.Get("WWW-Authenticate")
	if !strings.HasPrefix(c, "Bearer ") {
		t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", c)
	}
	for _, p := range params {
		if !strings.Contains(c, p) {
			t.Errorf("WWW-Authenticate = %q, want it to hold %s", c, p)
		}
	}
}

// comparedHeaders are the headers of an answer that must not depend on
// the framework: those bouncer sets on a refusal, and the Content-Type of
// every answer.
var comparedHeaders = []string{"Content-Type", "WWW-Authenticate", "Cache-Control", "Retry-After"}

// wantSame checks that r is the answer ref is: same status, body and
// compared headers, byte for byte.
func (r response) wantSame(t *testing.T, ref response) {
	t.Helper()
	if r.status != ref.status {
		t.Errorf("status = %d, want %d as net/http", r.status, ref.status)
	}
	for _, h := range comparedHeaders {
		if got, want := r.header.Values(h), ref.header.Values(h); !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q as net/http", h, got, want)
		}
	}
	if r.body != ref.body {
		t.Errorf("body = %s, want %s as net/http", r.body, ref.body)
	}
}

// fetchToken gets a token from tokenURL with the client-credentials grant,
// as a client would.
func fetchToken(t *testing.T, tokenURL, id, secret string, scopes ...string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: tokenURL, Scopes: scopes, AuthStyle: oauth2.AuthStyleInHeader}
	ctx, cancel := context.WithTimeout(context.WithValue(t.Context(), oauth2.HTTPClient, testClient), requestTimeout)
	defer cancel()
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("token for %s: %v", id, err)
	}
	return tok.AccessToken
}

func checkTokenInfo(t *testing.T, body, clientID string, audience, scopes []string) {
	t.Helper()
	var got countryapi.TokenInfo
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	slices.Sort(got.Scopes)
	if got.ClientID != clientID || !slices.Equal(got.Audience, audience) || !slices.Equal(got.Scopes, scopes) {
		t.Errorf("body = %s, want client_id %s, audience %q, scopes %q", body, clientID, audience, scopes)
	}
}

// headerAlg reads the alg of a JWT's header, to be sure which algorithm a
// case exercises.
func headerAlg(t *testing.T, tok string) string {
	t.Helper()
	h, _, _ := strings.Cut(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil {
		t.Fatalf("token header: %v", err)
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := json.Unmarshal(b, &header); err != nil {
		t.Fatalf("token header: %v", err)
	}
	return header.Alg
}
