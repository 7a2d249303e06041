package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// A secret that survives client_secret_basic only when form-encoded first.
const secret = "s3cr3t:+/ %&="

func TestTokenBasic(t *testing.T) {
	iss := newIssuer(t, bearertest.WithClient("orders", secret, "orders:read orders:write"))
	r := bouncer(t, "", "token", "--issuer", iss.URL(), "--client-id", "orders", "--client-secret", secret, "--scope", "orders:read")
	r.wants(t, exitOK)
	tok := strings.TrimSpace(r.stdout)
	if strings.Count(tok, ".") != 2 || strings.Contains(tok, "\n") {
		t.Fatalf("stdout is not one JWT: %q", r.stdout)
	}
	// What the command prints is what check (and so an API) takes.
	bouncer(t, "", checkArgs(iss, "--scope", "orders:read", tok)...).wants(t, exitOK, `scopes "orders:read"`)
	bouncer(t, "", checkArgs(iss, "--scope", "orders:write", tok)...).wants(t, exitDenied)
}

func TestTokenPostWithSecretFromEnvironment(t *testing.T) {
	iss := newIssuer(t, bearertest.WithClient("orders", secret, "orders:read"))
	t.Setenv("BOUNCER_CLIENT_SECRET", secret)
	r := bouncer(t, "", "token", "--issuer", iss.URL(), "--client-id", "orders", "--auth", "post", "--json", "--resource", "https://orders.example.com")
	r.wants(t, exitOK, `"token_type": "Bearer"`, `"expires_in": 300`, `"scope": "orders:read"`)
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &resp); err != nil || resp.AccessToken == "" {
		t.Fatalf("not a token response (%v): %s", err, r.stdout)
	}
	if aud := decodeToken(resp.AccessToken).aud; len(aud) != 1 || aud[0] != "https://orders.example.com" {
		t.Errorf("aud %q, want the resource asked for", aud)
	}
}

func TestTokenAudience(t *testing.T) {
	iss := newIssuer(t, bearertest.WithClient("orders", secret))
	r := bouncer(t, "", "token", "--issuer", iss.URL(), "--client-id", "orders", "--client-secret", secret, "--audience", "billing-api")
	r.wants(t, exitOK)
	if aud := decodeToken(strings.TrimSpace(r.stdout)).aud; len(aud) != 1 || aud[0] != "billing-api" {
		t.Errorf("aud %q, want billing-api", aud)
	}
}

func TestTokenRefused(t *testing.T) {
	iss := newIssuer(t, bearertest.WithClient("orders", secret, "orders:read"))
	for name, c := range map[string]struct {
		args []string
		says string
	}{
		"wrong secret": {[]string{"--client-secret", "guess"}, "invalid_client (unknown client or wrong secret)\nhint: check the client ID and secret"},
		"scope":        {[]string{"--client-secret", secret, "--scope", "admin"}, "invalid_scope"},
		"resource":     {[]string{"--client-secret", secret, "--resource", "orders"}, "invalid_target"},
	} {
		t.Run(name, func(t *testing.T) {
			r := bouncer(t, "", append([]string{"token", "--issuer", iss.URL(), "--client-id", "orders"}, c.args...)...)
			if r.code != exitRefused || r.stdout != "" || !strings.Contains(r.stderr, c.says) {
				t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}

func TestTokenIssuerDown(t *testing.T) {
	iss := newIssuer(t, bearertest.WithClient("orders", secret))
	iss.SetDown(true)
	r := bouncer(t, "", "token", "--issuer", iss.URL(), "--client-id", "orders", "--client-secret", secret)
	if r.code != exitUnavailable || !strings.Contains(r.stderr, "HTTP 503") {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestTokenUsage(t *testing.T) {
	t.Setenv("BOUNCER_CLIENT_SECRET", "")
	for name, args := range map[string][]string{
		"no secret":           {"--issuer", "http://127.0.0.1:1", "--client-id", "orders"},
		"no client":           {"--issuer", "http://127.0.0.1:1", "--client-secret", "s"},
		"audience & resource": {"--issuer", "http://127.0.0.1:1", "--client-id", "orders", "--client-secret", "s", "--audience", "a", "--resource", "https://a"},
		"auth":                {"--issuer", "http://127.0.0.1:1", "--client-id", "orders", "--client-secret", "s", "--auth", "jwt"},
		"plain http":          {"--issuer", "http://sso.example.com", "--client-id", "orders", "--client-secret", "s"},
	} {
		t.Run(name, func(t *testing.T) {
			r := bouncer(t, "", append([]string{"token"}, args...)...)
			if r.code != exitUsage || r.stdout != "" || r.stderr == "" {
				t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// The client secret goes to the token endpoint the issuer names and
// nowhere else: a redirect, which would re-post it (307, 308) to another
// origin, plain http included, is not followed.
func TestTokenRefusesRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"stolen","token_type":"Bearer"}`))
	}))
	t.Cleanup(other.Close)
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		var issuer *httptest.Server
		issuer = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/.well-known/openid-configuration":
				w.Header().Set("Content-Type", "application/json")
				_, _ = fmt.Fprintf(w, `{"issuer":%q,"token_endpoint":%q}`, issuer.URL, issuer.URL+"/token")
			case "/token":
				http.Redirect(w, r, other.URL+"/token", status)
			default:
				http.NotFound(w, r)
			}
		}))
		t.Cleanup(issuer.Close)
		for _, auth := range []string{"basic", "post"} {
			r := bouncer(t, "", "token", "--issuer", issuer.URL, "--client-id", "orders", "--client-secret", secret, "--auth", auth)
			if r.code != exitRefused || r.stdout != "" || !strings.Contains(r.stderr, "redirect") {
				t.Errorf("%d, --auth %s: exit %d, stdout %q, stderr %q", status, auth, r.code, r.stdout, r.stderr)
			}
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Fatalf("the redirect was followed %d times", n)
	}
}
