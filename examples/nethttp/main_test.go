package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

const ausJSON = `{"code":"AUS","name":"AUSTRALIA"}`

// api is the example's handler, served by httptest, trusting an in-process
// issuer with two clients: one that may read countries, one that may not.
type api struct {
	issuer *bearertest.Issuer
	url    string
}

func newAPI(t *testing.T) *api {
	t.Helper()
	iss, err := bearertest.NewIssuer(
		bearertest.WithAudience("country-api"),
		bearertest.WithClient("country-client", "country-secret", "country.read customer.read"),
		bearertest.WithClient("limited-client", "limited-secret", "customer.read"),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	v, err := countryapi.NewVerifier(countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{"country-api"}}, quietLogger())
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(newHandler(v, quietLogger()))
	t.Cleanup(srv.Close)
	return &api{issuer: iss, url: srv.URL}
}

// token gets a token from the issuer's token endpoint, as a client would.
func (a *api) token(t *testing.T, id, secret string, scopes ...string) string {
	t.Helper()
	return fetchToken(t, a.issuer.TokenURL(), id, secret, scopes...)
}

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

func TestCountry(t *testing.T) {
	a := newAPI(t)
	reader := a.token(t, "country-client", "country-secret", "country.read")

	t.Run("with scope", func(t *testing.T) {
		r := get(t, a.url+"/country/code/AUS", reader)
		r.wantStatus(t, http.StatusOK)
		if r.body != ausJSON {
			t.Errorf("body = %s, want %s", r.body, ausJSON)
		}
	})
	t.Run("lower-case code", func(t *testing.T) {
		r := get(t, a.url+"/country/code/aus", reader)
		r.wantStatus(t, http.StatusOK)
		if r.body != ausJSON {
			t.Errorf("body = %s, want %s", r.body, ausJSON)
		}
	})
	t.Run("unknown code", func(t *testing.T) {
		r := get(t, a.url+"/country/code/XYZ", reader)
		r.wantStatus(t, http.StatusNotFound)
		if want := `{"error":"not_found","error_description":"no country has this code"}`; r.body != want {
			t.Errorf("body = %s, want %s", r.body, want)
		}
	})
	t.Run("without scope", func(t *testing.T) {
		r := get(t, a.url+"/country/code/AUS", a.token(t, "limited-client", "limited-secret", "customer.read"))
		r.wantStatus(t, http.StatusForbidden)
		r.wantChallenge(t, `error="insufficient_scope"`, `scope="country.read"`)
	})
	t.Run("no token", func(t *testing.T) {
		r := get(t, a.url+"/country/code/AUS", "")
		r.wantStatus(t, http.StatusUnauthorized)
		if c := r.header.Get("WWW-Authenticate"); c != `Bearer realm="country-api"` {
			t.Errorf(`WWW-Authenticate = %q, want Bearer realm="country-api" with no error`, c)
		}
	})
	t.Run("other audience", func(t *testing.T) {
		tok := a.issuer.MustMint(t, map[string]any{"aud": "other-api", "scope": "country.read"})
		r := get(t, a.url+"/country/code/AUS", tok)
		r.wantStatus(t, http.StatusUnauthorized)
		r.wantChallenge(t, `error="invalid_token"`)
	})
}

func TestAPIData(t *testing.T) {
	a := newAPI(t)

	t.Run("echoes the token", func(t *testing.T) {
		// No scope asked: the issuer grants all of the client's.
		r := get(t, a.url+"/api/data", a.token(t, "country-client", "country-secret"))
		r.wantStatus(t, http.StatusOK)
		checkTokenInfo(t, r.body, "country-client", []string{"country-api"}, []string{"country.read", "customer.read"})
	})
	t.Run("any scope will do", func(t *testing.T) {
		r := get(t, a.url+"/api/data", a.token(t, "limited-client", "limited-secret"))
		r.wantStatus(t, http.StatusOK)
		checkTokenInfo(t, r.body, "limited-client", []string{"country-api"}, []string{"customer.read"})
	})
	t.Run("no scope at all", func(t *testing.T) {
		r := get(t, a.url+"/api/data", a.issuer.MustMint(t, map[string]any{"sub": "bare-client"}))
		r.wantStatus(t, http.StatusOK)
		if want := `{"client_id":"bare-client","audience":["country-api"],"scopes":[]}`; r.body != want {
			t.Errorf("body = %s, want %s", r.body, want)
		}
	})
	t.Run("no token", func(t *testing.T) {
		get(t, a.url+"/api/data", "").wantStatus(t, http.StatusUnauthorized)
	})
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

func TestHealthz(t *testing.T) {
	t.Run("open", func(t *testing.T) {
		a := newAPI(t)
		r := get(t, a.url+"/healthz", "")
		r.wantStatus(t, http.StatusOK)
		if want := `{"status":"ok","issuer_ready":true}`; r.body != want {
			t.Errorf("body = %s, want %s", r.body, want)
		}
	})
	t.Run("issuer down is not a liveness failure", func(t *testing.T) {
		a := newAPI(t)
		a.issuer.SetDown(true)
		r := get(t, a.url+"/healthz", "")
		r.wantStatus(t, http.StatusOK)
		if want := `{"status":"ok","issuer_ready":false}`; r.body != want {
			t.Errorf("body = %s, want %s", r.body, want)
		}
	})
}

// TestRunDevIssuer runs the example with no ISSUER_URL, as `go run
// ./examples/nethttp` does, and follows the printed instructions: the
// printed client credentials get a token at the printed token endpoint, and
// the token opens the country lookup.
func TestRunDevIssuer(t *testing.T) {
	cfg, err := countryapi.ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	base, out := startRun(t, cfg)

	// The listener is open before run starts, so this waits for the server
	// rather than racing it; run prints before it serves.
	get(t, base+"/healthz", "").wantStatus(t, http.StatusOK)
	printed := out.String()
	for _, want := range []string{
		"for development only",
		"client_id:      country-client",
		"curl -i -H \"Authorization: Bearer $TOKEN\" " + base + "/country/code/AUS",
	} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	secret := field(t, printed, "client_secret")
	tokenURL := field(t, printed, "token endpoint")

	r := get(t, base+"/country/code/AUS", fetchToken(t, tokenURL, "country-client", secret, "country.read"))
	r.wantStatus(t, http.StatusOK)
	if r.body != ausJSON {
		t.Errorf("body = %s, want %s", r.body, ausJSON)
	}
}

// field reads "  name: value" from the printed instructions.
func field(t *testing.T, printed, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^  ` + regexp.QuoteMeta(name) + `: +(\S+)$`).FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("output has no %s:\n%s", name, printed)
	}
	return m[1]
}

func TestRunRefusesBadIssuer(t *testing.T) {
	l := listen(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	err := run(ctx, l, countryapi.Config{IssuerURL: "not a URL", Audiences: []string{"country-api"}}, quietLogger(), &syncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "not an absolute URL") {
		t.Fatalf("run = %v, want an error about the issuer URL", err)
	}
}
