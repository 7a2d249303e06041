// Package oidcprovider runs a real, independent OAuth 2.0 authorization
// server for bouncer's integration tests: panva's oidc-provider on Node.js,
// from testdata/oidc-provider, listening on a free port on 127.0.0.1.
//
// The server's clients, resources and scopes are fixed; the constants below
// name them so tests use names rather than strings. Signing keys are
// generated afresh each time the server starts and are published at
// [Provider.JWKSURL].
//
// Requirements: node on PATH and the server's dependencies installed, e.g.
// with `npm ci --prefix testdata/oidc-provider` from the repository root.
package oidcprovider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Audiences of the issued access tokens (their "aud" claim).
const (
	// Audience is the audience of every resource except ResourceOther.
	Audience = "country-api"
	// OtherAudience is the audience of ResourceOther.
	OtherAudience = "other-api"
)

// Resource indicators (RFC 8707). A client sends one as the "resource"
// parameter of its token request; it selects the audience, the token format
// and the signing algorithm.
const (
	// ResourceRS256 yields JWT access tokens signed with RS256.
	ResourceRS256 = "urn:bouncer:rs256"
	// ResourcePS256 yields JWT access tokens signed with PS256.
	ResourcePS256 = "urn:bouncer:ps256"
	// ResourceES256 yields JWT access tokens signed with ES256 (P-256).
	ResourceES256 = "urn:bouncer:es256"
	// ResourceEdDSA yields JWT access tokens signed with EdDSA (Ed25519).
	ResourceEdDSA = "urn:bouncer:eddsa"
	// ResourceOther yields RS256 JWT access tokens for OtherAudience.
	ResourceOther = "urn:bouncer:other"
	// ResourceHS256 yields an algorithm-confusion token that a verifier must
	// reject: header alg HS256, kid naming the published RS256 key, and an
	// HMAC-SHA256 signature keyed with that RSA public key in PEM (SPKI)
	// form.
	ResourceHS256 = "urn:bouncer:hs256"
	// ResourceOpaque yields opaque (non-JWT) access tokens for Audience,
	// to be checked at the introspection endpoint.
	ResourceOpaque = "urn:bouncer:opaque"
)

// Scopes every resource offers.
const (
	ScopeCountryRead  = "country.read"
	ScopeCustomerRead = "customer.read"
)

// Clients. All use the client_credentials grant and authenticate with
// client_secret_basic, except PostClientID, which uses client_secret_post.
const (
	// CountryClientID may obtain ScopeCountryRead and ScopeCustomerRead.
	CountryClientID     = "country-client"
	CountryClientSecret = "country-secret"

	// LimitedClientID may obtain ScopeCustomerRead only; asking for
	// ScopeCountryRead fails with invalid_scope.
	LimitedClientID     = "limited-client"
	LimitedClientSecret = "limited-secret"

	// PostClientID is registered for client_secret_post; it may obtain
	// ScopeCountryRead and ScopeCustomerRead. (oidc-provider also accepts
	// its credentials in HTTP Basic form: it treats client_secret_basic and
	// client_secret_post alike.)
	PostClientID     = "post-client"
	PostClientSecret = "post-secret"

	// SpecialClientID has a secret that needs form-encoding inside HTTP
	// Basic credentials; it may obtain ScopeCountryRead and
	// ScopeCustomerRead.
	SpecialClientID     = "special-client"
	SpecialClientSecret = "s3cr3t:+/ %&=?#"

	// IntrospectorClientID is the protected API's own client, for the
	// introspection and revocation endpoints (client_secret_basic). It
	// cannot obtain tokens.
	IntrospectorClientID     = "country-api-introspector"
	IntrospectorClientSecret = "introspector-secret"
)

// AccessTokenTTL is the lifetime of every issued access token.
const AccessTokenTTL = 300 * time.Second

const (
	// A start takes under a second; the margin is for a machine busy
	// compiling and testing other packages under -race.
	startTimeout = 60 * time.Second
	stopTimeout  = 5 * time.Second
	serverDir    = "testdata/oidc-provider"
)

// Provider is a running authorization server.
type Provider struct {
	// Issuer is the server's issuer identifier, e.g. "http://127.0.0.1:41234"
	// (no trailing slash); it is the "iss" claim of every token.
	Issuer string

	client *http.Client
	stdin  io.Writer // the server's commands (see Withdraw)
	mu     sync.Mutex
}

// Start starts the authorization server and stops it when the test ends.
// The server's diagnostics are logged only if the test fails.
func Start(t testing.TB) *Provider {
	t.Helper()

	dir, err := findServerDir()
	if err != nil {
		t.Fatalf("oidcprovider: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		t.Fatalf("oidcprovider: the test authorization server's dependencies are not installed in %s; "+
			"run `make test`, or `npm ci --prefix %s` from the repository root", dir, serverDir)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("oidcprovider: node (Node.js 20 or later) is needed to run the test authorization server: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PORT=0", fmt.Sprintf("ACCESS_TOKEN_TTL=%d", int(AccessTokenTTL/time.Second)))
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = stopTimeout
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdout := &readyWriter{ready: make(chan string, 1)}
	cmd.Stdout = stdout
	// The server exits when its stdin closes, so it also goes away if this
	// process dies without running the cleanup.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatalf("oidcprovider: %v", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("oidcprovider: starting node: %v", err)
	}

	exited := make(chan struct{})
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()

	transport := &http.Transport{Proxy: nil}
	p := &Provider{client: &http.Client{Transport: transport, Timeout: 15 * time.Second}, stdin: stdin}

	t.Cleanup(func() {
		transport.CloseIdleConnections()
		_ = stdin.Close()
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			cancel() // SIGTERM, then SIGKILL after WaitDelay
			<-exited
		}
		cancel()
		if t.Failed() {
			logStderr(t, stderr)
		}
	})

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case issuer := <-stdout.ready:
		if !strings.HasPrefix(issuer, "http://127.0.0.1:") {
			t.Fatalf("oidcprovider: server announced an unexpected issuer %q; stderr:\n%s", issuer, stderr.String())
		}
		p.Issuer = issuer
		return p
	case <-exited:
		t.Fatalf("oidcprovider: server exited before it was ready (%v); stderr:\n%s", waitErr, stderr.String())
	case <-timer.C:
		t.Fatalf("oidcprovider: server not ready after %v; stderr:\n%s", startTimeout, stderr.String())
	}
	return nil
}

// findServerDir walks up from the working directory to the repository root
// (the directory holding go.work) looking for testdata/oidc-provider.
func findServerDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		candidate := filepath.Join(dir, filepath.FromSlash(serverDir))
		if _, err := os.Stat(filepath.Join(candidate, "server.mjs")); err == nil {
			return candidate, nil
		}
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("no %s/server.mjs in %s or any parent directory up to the repository root", serverDir, wd)
}

func logStderr(t testing.TB, stderr *syncBuffer) {
	out := strings.TrimRight(stderr.String(), "\n")
	if out == "" {
		return
	}
	for line := range strings.SplitSeq(out, "\n") {
		t.Logf("oidc-provider: %s", line)
	}
}

// Withdraw stops publishing the signing key kid, as an issuer withdraws a
// compromised key: the JWKS no longer lists it, though the tokens it signed
// still name it (and the server goes on signing with it). It returns once
// the JWKS no longer lists kid.
func (p *Provider) Withdraw(t testing.TB, kid string) {
	t.Helper()
	p.mu.Lock()
	_, err := io.WriteString(p.stdin, "withdraw "+kid+"\n")
	p.mu.Unlock()
	if err != nil {
		t.Fatalf("oidcprovider: withdraw %s: %v", kid, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		kids, err := p.publishedKids()
		if err != nil {
			t.Fatalf("oidcprovider: %v", err)
		}
		if !slices.Contains(kids, kid) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("oidcprovider: %s still published 10s after its withdrawal", kid)
		}
	}
}

// publishedKids lists the kids the JWKS publishes.
func (p *Provider) publishedKids() ([]string, error) {
	resp, err := p.client.Get(p.JWKSURL())
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids, nil
}

// TokenURL is the token endpoint.
func (p *Provider) TokenURL() string { return p.Issuer + "/token" }

// JWKSURL is the endpoint publishing the public signing keys.
func (p *Provider) JWKSURL() string { return p.Issuer + "/jwks" }

// DiscoveryURL is the authorization server metadata document.
func (p *Provider) DiscoveryURL() string { return p.Issuer + "/.well-known/openid-configuration" }

// IntrospectionURL is the token introspection endpoint (RFC 7662).
func (p *Provider) IntrospectionURL() string { return p.Issuer + "/token/introspection" }

// RevocationURL is the token revocation endpoint (RFC 7009).
func (p *Provider) RevocationURL() string { return p.Issuer + "/token/revocation" }

// HTTPClient is an HTTP client suited to talking to the server: no proxy,
// a bounded timeout, idle connections closed when the test ends.
func (p *Provider) HTTPClient() *http.Client { return p.client }

// Config is the client-credentials configuration that [Provider.Token] and
// [Provider.TokenErr] use: the token endpoint, the given credentials and
// scopes, the resource indicator as the "resource" parameter (omitted when
// empty), and the client's registered authentication method
// (client_secret_post for PostClientID, client_secret_basic otherwise).
func (p *Provider) Config(clientID, secret, resource string, scopes ...string) *clientcredentials.Config {
	cfg := &clientcredentials.Config{
		ClientID:     clientID,
		ClientSecret: secret,
		TokenURL:     p.TokenURL(),
		Scopes:       scopes,
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	if clientID == PostClientID {
		cfg.AuthStyle = oauth2.AuthStyleInParams
	}
	if resource != "" {
		cfg.EndpointParams = url.Values{"resource": {resource}}
	}
	return cfg
}

// Token obtains an access token with the client_credentials grant and
// returns it; it fails the test if the server refuses.
func (p *Provider) Token(t testing.TB, clientID, secret, resource string, scopes ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	tok, err := p.TokenErr(ctx, clientID, secret, resource, scopes...)
	if err != nil {
		t.Fatalf("oidcprovider: token for client %q, resource %q, scopes %q: %v", clientID, resource, scopes, err)
	}
	return tok
}

// TokenErr is [Provider.Token] for cases expected to fail. A refusal by the
// server is an *oauth2.RetrieveError whose ErrorCode is the OAuth error code
// (e.g. "invalid_scope", "invalid_client", "invalid_target").
func (p *Provider) TokenErr(ctx context.Context, clientID, secret, resource string, scopes ...string) (string, error) {
	ctx = context.WithValue(ctx, oauth2.HTTPClient, p.client)
	tok, err := p.Config(clientID, secret, resource, scopes...).Token(ctx)
	if err != nil {
		return "", err
	}
	return tok.AccessToken, nil
}

// Introspect asks the introspection endpoint about token, authenticating as
// IntrospectorClientID, and returns the decoded response. It fails the test
// on any error other than an inactive token (which yields "active": false).
func (p *Provider) Introspect(t testing.TB, token string) map[string]any {
	t.Helper()
	body := p.postAsIntrospector(t, p.IntrospectionURL(), token)
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("oidcprovider: introspection response: %v", err)
	}
	return out
}

// Revoke revokes token at the revocation endpoint, authenticating as
// IntrospectorClientID. Only opaque tokens can be revoked.
func (p *Provider) Revoke(t testing.TB, token string) {
	t.Helper()
	p.postAsIntrospector(t, p.RevocationURL(), token)
}

func (p *Provider) postAsIntrospector(t testing.TB, endpoint, token string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	form := url.Values{"token": {token}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatalf("oidcprovider: %v", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(IntrospectorClientID), url.QueryEscape(IntrospectorClientSecret))
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("oidcprovider: POST %s: %v", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("oidcprovider: POST %s: %v", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("oidcprovider: POST %s: %s: %s", endpoint, resp.Status, body)
	}
	return body
}

// readyWriter receives the server's stdout and reports the issuer from its
// first line, "READY <issuer>". Everything else is discarded.
type readyWriter struct {
	mu    sync.Mutex
	line  []byte
	done  bool
	ready chan string
}

func (w *readyWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return len(b), nil
	}
	w.line = append(w.line, b...)
	i := bytes.IndexByte(w.line, '\n')
	if i < 0 {
		if len(w.line) > 4096 {
			return 0, errors.New("oidcprovider: no READY line from server")
		}
		return len(b), nil
	}
	w.done = true
	line := strings.TrimSpace(string(w.line[:i]))
	w.line = nil
	issuer, ok := strings.CutPrefix(line, "READY ")
	if !ok {
		issuer = ""
	}
	w.ready <- issuer
	return len(b), nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 { // keep memory bounded if the server gets chatty
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
