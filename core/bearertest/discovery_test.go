package bearertest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

func TestDiscovery(t *testing.T) {
	for _, path := range []string{"", "/realms/test"} {
		t.Run("path="+path, func(t *testing.T) {
			iss := newIssuer(t, bearertest.WithIssuerPath(path), bearertest.WithClient("c", "s", "b a"))
			origin := strings.TrimSuffix(iss.URL(), path)
			if !strings.HasSuffix(iss.URL(), path) || strings.HasSuffix(iss.URL(), "/") {
				t.Fatalf("URL = %q, want it to end in %q", iss.URL(), path)
			}
			for _, u := range []string{
				iss.DiscoveryURL(),
				iss.URL() + "/.well-known/openid-configuration",
				origin + "/.well-known/oauth-authorization-server" + path,
			} {
				status, hdr, body := get(t, iss.Client(), u)
				if status != http.StatusOK || hdr.Get("Content-Type") != "application/json" {
					t.Fatalf("GET %s: %d %s", u, status, hdr.Get("Content-Type"))
				}
				var m struct {
					Issuer      string   `json:"issuer"`
					JWKSURI     string   `json:"jwks_uri"`
					TokenURL    string   `json:"token_endpoint"`
					Grants      []string `json:"grant_types_supported"`
					AuthMethods []string `json:"token_endpoint_auth_methods_supported"`
					Algs        []string `json:"id_token_signing_alg_values_supported"`
					Scopes      []string `json:"scopes_supported"`
				}
				if err := json.Unmarshal(body, &m); err != nil {
					t.Fatal(err)
				}
				if m.Issuer != iss.URL() || m.JWKSURI != iss.JWKSURL() || m.TokenURL != iss.TokenURL() {
					t.Errorf("metadata = %+v", m)
				}
				if strings.Join(m.Grants, " ") != "client_credentials" ||
					strings.Join(m.AuthMethods, " ") != "client_secret_basic client_secret_post" ||
					len(m.Algs) != len(bearertest.Algorithms()) ||
					strings.Join(m.Scopes, " ") != "a b" {
					t.Errorf("metadata = %+v", m)
				}
			}
			if path != "" {
				// Without the path, nothing is served.
				for _, u := range []string{origin + "/.well-known/openid-configuration", origin + "/jwks"} {
					if status, _, _ := get(t, iss.Client(), u); status != http.StatusNotFound {
						t.Errorf("GET %s: %d, want 404", u, status)
					}
				}
			}
			verify(t, iss, iss.MustMint(t, nil), "RS256")
		})
	}
}

func TestIssuerPathIsNormalized(t *testing.T) {
	iss := newIssuer(t, bearertest.WithIssuerPath("realms/x/"))
	if !strings.HasSuffix(iss.URL(), "/realms/x") {
		t.Errorf("URL = %q", iss.URL())
	}
}

func TestBadOptions(t *testing.T) {
	for name, opt := range map[string]bearertest.Option{
		"path with query":  bearertest.WithIssuerPath("/a?b"),
		"path with dots":   bearertest.WithIssuerPath("/a/../b"),
		"path with spaces": bearertest.WithIssuerPath("/a b"),
		"empty segment":    bearertest.WithIssuerPath("/a//b"),
		"token alg":        bearertest.WithTokenAlg("HS256"),
		"token alg none":   bearertest.WithTokenAlg("none"),
		"ttl":              bearertest.WithTokenTTL(0),
		"audience":         bearertest.WithAudience(""),
		"client":           bearertest.WithClient("", "x"),
		"secret":           bearertest.WithClient("x", ""),
		"addr":             bearertest.WithAddr("256.0.0.1:http"),
	} {
		if iss, err := bearertest.NewIssuer(opt); err == nil {
			iss.Close()
			t.Errorf("%s: NewIssuer succeeded", name)
		}
	}
}

func TestTLS(t *testing.T) {
	iss := newIssuer(t, bearertest.WithTLS())
	if !strings.HasPrefix(iss.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL = %q", iss.URL())
	}
	verify(t, iss, iss.MustMint(t, nil), "RS256")
	if _, err := http.Get(iss.JWKSURL()); err == nil {
		t.Error("an HTTP client that does not trust the certificate connected")
	}
}

func TestWildcardAddrIsReachedOverLoopback(t *testing.T) {
	iss := newIssuer(t, bearertest.WithAddr(":0"))
	if !strings.HasPrefix(iss.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL = %q", iss.URL())
	}
	fetchJWKS(t, iss)
}

func TestCloseTwice(t *testing.T) {
	iss, err := bearertest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	iss.Close()
	iss.Close()
	var none *bearertest.Issuer
	none.Close()
}
