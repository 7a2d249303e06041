package bearertest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

const trickySecret = "a:b+c/ d%&"

func tokenIssuer(t *testing.T, opts ...bearertest.Option) *bearertest.Issuer {
	opts = append([]bearertest.Option{
		bearertest.WithClient("orders", trickySecret, "orders:read", "orders:write"),
		bearertest.WithTokenTTL(10 * time.Minute),
	}, opts...)
	return newIssuer(t, opts...)
}

func ccForm(kv ...string) url.Values {
	f := url.Values{"grant_type": {"client_credentials"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return f
}

func wantTokenError(t *testing.T, r tokenReply, status int, code string) {
	t.Helper()
	if r.status != status || r.body["error"] != code {
		t.Errorf("got %d %v, want %d %s", r.status, r.body, status, code)
	}
	if r.status == http.StatusUnauthorized && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
		t.Errorf("WWW-Authenticate = %q, want Basic", r.header.Get("WWW-Authenticate"))
	}
}

func TestTokenClientSecretBasic(t *testing.T) {
	iss := tokenIssuer(t)
	r := postToken(t, iss, ccForm(), "orders", trickySecret)
	if r.status != http.StatusOK {
		t.Fatalf("status %d: %v", r.status, r.body)
	}
	if r.body["token_type"] != "Bearer" || r.body["expires_in"] != float64(600) || r.body["scope"] != "orders:read orders:write" {
		t.Errorf("response = %v", r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}
	tok, _ := r.body["access_token"].(string)
	claims := verify(t, iss, tok, "RS256")
	want := map[string]any{
		"iss": iss.URL(), "sub": "orders", "client_id": "orders",
		"aud": bearertest.DefaultAudience, "scope": "orders:read orders:write",
	}
	for name, v := range want {
		if claims[name] != v {
			t.Errorf("%s = %v, want %v", name, claims[name], v)
		}
	}
	if exp, iat := claims["exp"].(float64), claims["iat"].(float64); exp-iat != 600 {
		t.Errorf("exp - iat = %v, want 600", exp-iat)
	}
	if h, _ := parts(t, tok); h["typ"] != "at+jwt" {
		t.Errorf("typ = %v", h["typ"])
	}
}

func TestTokenBasicCredentialsMustBeFormEncoded(t *testing.T) {
	iss := tokenIssuer(t)
	req, _ := http.NewRequest(http.MethodPost, iss.TokenURL(), strings.NewReader(ccForm().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("orders", trickySecret) // not encoded: "%&" is no escape
	wantTokenError(t, doToken(t, iss, req), http.StatusUnauthorized, "invalid_client")
}

func TestTokenClientSecretPost(t *testing.T) {
	iss := tokenIssuer(t)
	r := postToken(t, iss, ccForm("client_id", "orders", "client_secret", trickySecret, "scope", "orders:read"), "", "")
	if r.status != http.StatusOK || r.body["scope"] != "orders:read" {
		t.Fatalf("got %d %v", r.status, r.body)
	}
	claims := verify(t, iss, r.body["access_token"].(string), "RS256")
	if claims["scope"] != "orders:read" {
		t.Errorf("scope = %v", claims["scope"])
	}
}

func TestTokenErrors(t *testing.T) {
	iss := tokenIssuer(t)
	cases := []struct {
		name             string
		form             url.Values
		basicID, basicPW string
		status           int
		code             string
	}{
		{"wrong secret basic", ccForm(), "orders", "nope", 401, "invalid_client"},
		{"wrong secret post", ccForm("client_id", "orders", "client_secret", "nope"), "", "", 401, "invalid_client"},
		{"unknown client", ccForm("client_id", "who", "client_secret", trickySecret), "", "", 401, "invalid_client"},
		{"no credentials", ccForm(), "", "", 401, "invalid_client"},
		{"no secret", ccForm("client_id", "orders"), "", "", 401, "invalid_client"},
		{"both methods", ccForm("client_secret", trickySecret), "orders", trickySecret, 400, "invalid_request"},
		{"client_id mismatch", ccForm("client_id", "other"), "orders", trickySecret, 400, "invalid_request"},
		{"scope not allowed", ccForm("scope", "orders:read admin"), "orders", trickySecret, 400, "invalid_scope"},
		{"no grant_type", url.Values{}, "orders", trickySecret, 400, "invalid_request"},
		{"other grant", url.Values{"grant_type": {"password"}}, "orders", trickySecret, 400, "unsupported_grant_type"},
		{"repeated parameter", ccForm("scope", "orders:read", "scope", "orders:write"), "orders", trickySecret, 400, "invalid_request"},
		{"relative resource", ccForm("resource", "/api"), "orders", trickySecret, 400, "invalid_target"},
		{"resource fragment", ccForm("resource", "https://api.example/#x"), "orders", trickySecret, 400, "invalid_target"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantTokenError(t, postToken(t, iss, c.form, c.basicID, c.basicPW), c.status, c.code)
		})
	}
}

func TestTokenRequestShape(t *testing.T) {
	iss := tokenIssuer(t)
	status, hdr, _ := get(t, iss.Client(), iss.TokenURL())
	if status != http.StatusMethodNotAllowed || hdr.Get("Allow") != "POST" {
		t.Errorf("GET token: %d, Allow %q", status, hdr.Get("Allow"))
	}
	req, _ := http.NewRequest(http.MethodPost, iss.TokenURL(), strings.NewReader(`{"grant_type":"client_credentials"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth("orders", url.QueryEscape(trickySecret))
	wantTokenError(t, doToken(t, iss, req), 400, "invalid_request")

	req, _ = http.NewRequest(http.MethodPost, iss.TokenURL(), strings.NewReader(ccForm().Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer abc")
	wantTokenError(t, doToken(t, iss, req), 401, "invalid_client")
}

func TestTokenAudience(t *testing.T) {
	iss := tokenIssuer(t)
	for _, c := range []struct {
		name string
		form url.Values
		want any
	}{
		{"resource", ccForm("resource", "https://api.example/orders"), "https://api.example/orders"},
		{"audience", ccForm("audience", "orders-api"), "orders-api"},
		{"two resources", url.Values{
			"grant_type": {"client_credentials"},
			"resource":   {"https://a.example", "https://b.example"},
		}, []any{"https://a.example", "https://b.example"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := postToken(t, iss, c.form, "orders", trickySecret)
			if r.status != http.StatusOK {
				t.Fatalf("got %d %v", r.status, r.body)
			}
			_, claims := parts(t, r.body["access_token"].(string))
			if got, want := jsonString(t, claims["aud"]), jsonString(t, c.want); got != want {
				t.Errorf("aud = %s, want %s", got, want)
			}
		})
	}
}

func TestTokenClientsAtRuntime(t *testing.T) {
	iss := newIssuer(t, bearertest.WithTokenAlg("ES256"))
	iss.AddClient("billing", "s3cret", "billing:read billing:write")
	r := postToken(t, iss, ccForm("scope", "billing:write"), "billing", "s3cret")
	if r.status != http.StatusOK {
		t.Fatalf("got %d %v", r.status, r.body)
	}
	verify(t, iss, r.body["access_token"].(string), "ES256")

	iss.RemoveClient("billing")
	wantTokenError(t, postToken(t, iss, ccForm(), "billing", "s3cret"), 401, "invalid_client")
}

// A token request with a DPoP proof gets a token bound to the proof's key.
func TestTokenBoundToDPoPKey(t *testing.T) {
	iss := tokenIssuer(t)
	for _, alg := range []string{"ES256", "RS256", "EdDSA"} {
		key, err := bearertest.NewKey(alg)
		if err != nil {
			t.Fatal(err)
		}
		proof, err := key.DPoPProof(http.MethodPost, iss.TokenURL(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, iss.TokenURL(), strings.NewReader(ccForm("client_id", "orders", "client_secret", trickySecret).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("DPoP", proof)
		r := doToken(t, iss, req)
		if r.status != http.StatusOK || r.body["token_type"] != "DPoP" {
			t.Fatalf("%s: got %d %v", alg, r.status, r.body)
		}
		_, claims := parts(t, r.body["access_token"].(string))
		if cnf, _ := claims["cnf"].(map[string]any); cnf["jkt"] != key.Thumbprint() {
			t.Errorf("%s: cnf %v; want jkt %s", alg, claims["cnf"], key.Thumbprint())
		}
	}
}
