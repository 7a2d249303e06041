package bearermcp_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

const (
	audience    = "country-api"
	scopeRead   = "country.read"
	callTimeout = 15 * time.Second
)

// newIssuer starts an issuer of tokens for audience, with two clients of
// its token endpoint: svc, granted country.read, and limited, granted only
// customer.read.
func newIssuer(t *testing.T) *bearertest.Issuer {
	t.Helper()
	iss, err := bearertest.NewIssuer(
		bearertest.WithAudience(audience),
		bearertest.WithClient("svc", "svc-secret", scopeRead, "customer.read"),
		bearertest.WithClient("limited", "limited-secret", "customer.read"),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	return iss
}

func newVerifier(t *testing.T, iss *bearertest.Issuer) *bearer.Verifier {
	t.Helper()
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{audience}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// clientToken gets a client-credentials token from iss's token endpoint.
func clientToken(t *testing.T, iss *bearertest.Issuer, id, secret string, scopes ...string) string {
	t.Helper()
	tok, err := clientCredentials(iss, id, secret, scopes...).Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

func clientCredentials(iss *bearertest.Issuer, id, secret string, scopes ...string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: iss.TokenURL(), Scopes: scopes}
}

// serve runs the handler that build returns for the server's own base
// URL, on a loopback listener, until t ends.
func serve(t *testing.T, build func(base string) http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + l.Addr().String()
	srv := httptest.NewUnstartedServer(build(base))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return base
}

// get sends GET url with the token, if any.
func get(t *testing.T, url, token string) (*http.Response, string) {
	t.Helper()
	return do(t, http.MethodGet, url, token)
}

func do(t *testing.T, method, url, token string) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}
