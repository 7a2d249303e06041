package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// The API every program serves, and the client the issuer knows.
const (
	audience     = "country-api"
	scope        = "country.read"
	clientID     = "country-client"
	clientSecret = "consumer-test-secret"
)

// server is a program running as a server.
type server struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

// start runs bin with env added to the environment, its output kept for
// when something fails.
func start(ctx context.Context, bin string, env ...string) (*server, error) {
	s := &server{cmd: exec.CommandContext(ctx, bin), out: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

func (s *server) stop() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

// fail wraps err with what the server printed.
func (s *server) fail(err error) error {
	return fmt.Errorf("%w\nthe program printed:\n%s", err, s.out.String())
}

// waitListening waits until addr accepts connections, or the server ends.
func (s *server) waitListening(ctx context.Context, addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-s.done:
			return s.fail(errors.New("the program ended before it listened"))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return s.fail(fmt.Errorf("nothing listens on %s after 30s", addr))
		}
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// freeAddr is a loopback address nothing listens on, for a program to
// listen on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

var client = &http.Client{Timeout: 20 * time.Second}

// do sends req, with token unless it is empty, and returns the answer
// with its body read.
func do(req *http.Request, token string) (*http.Response, string, error) {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(body), err
}

// answer is what a program must answer to one call.
type answer struct {
	status    int
	body      string            // a part of the body
	challenge string            // how WWW-Authenticate starts ("" for none)
	header    map[string]string // headers and their exact values
}

// check says how resp and its body differ from a.
func (a answer) check(resp *http.Response, body string) error {
	ok := resp.StatusCode == a.status && strings.Contains(body, a.body) &&
		strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), a.challenge)
	for k, v := range a.header {
		ok = ok && resp.Header.Get(k) == v
	}
	if ok {
		return nil
	}
	got := make(map[string]string, len(a.header))
	for k := range a.header {
		got[k] = resp.Header.Get(k)
	}
	return fmt.Errorf("answered %d, WWW-Authenticate %q, headers %q, body %q; want %d, a challenge starting %q, headers %q, a body with %q",
		resp.StatusCode, resp.Header.Get("WWW-Authenticate"), got, body, a.status, a.challenge, a.header, a.body)
}

// acceptAndRefuse sends the request newRequest makes to the program s
// twice: with token, which it must accept as accepted says, and without a
// token, which it must refuse as refused says.
func acceptAndRefuse(s *server, newRequest func() (*http.Request, error), token string, accepted, refused answer) error {
	for _, call := range []struct {
		token string
		want  answer
	}{{token, accepted}, {"", refused}} {
		req, err := newRequest()
		if err != nil {
			return err
		}
		resp, body, err := do(req, call.token)
		if err != nil {
			return s.fail(err)
		}
		if err := call.want.check(resp, body); err != nil {
			return s.fail(fmt.Errorf("%s %s (token: %t) %w", req.Method, req.URL, call.token != "", err))
		}
	}
	return nil
}

// callHTTP runs the country API at bin with env and asks it for AUS with
// token (200) and without a token (401 and a Bearer challenge).
func (c *consumer) callHTTP(ctx context.Context, bin, token string, env ...string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	s, err := start(ctx, bin, append(env, "ADDR="+addr, "REDIS_ADDR=127.0.0.1:1")...)
	if err != nil {
		return err
	}
	defer s.stop()
	if err := s.waitListening(ctx, addr); err != nil {
		return err
	}
	url := "http://" + addr + "/country/code/AUS"
	return acceptAndRefuse(s, func() (*http.Request, error) { return http.NewRequestWithContext(ctx, http.MethodGet, url, nil) }, token,
		answer{status: http.StatusOK, body: "AUS"},
		answer{status: http.StatusUnauthorized, challenge: `Bearer realm="`})
}

// callMCP runs the MCP server at bin and opens a session (initialize)
// with a token for its URL (200) and without one (401, pointing to its
// metadata, which it serves).
func (c *consumer) callMCP(ctx context.Context, bin string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	resource := "http://" + addr + "/mcp"
	metadata := "http://" + addr + "/.well-known/oauth-protected-resource/mcp"
	s, err := start(ctx, bin, "ISSUER_URL="+c.iss.URL(), "RESOURCE_URL="+resource, "ADDR="+addr)
	if err != nil {
		return err
	}
	defer s.stop()
	if err := s.waitListening(ctx, addr); err != nil {
		return err
	}
	token, err := c.iss.Mint(map[string]any{"scope": scope, "client_id": clientID, "aud": resource})
	if err != nil {
		return err
	}
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"consumer","version":"v1"}}}`
	for _, call := range []struct {
		token     string
		status    int
		challenge string
	}{
		{token: token, status: http.StatusOK},
		{status: http.StatusUnauthorized, challenge: `resource_metadata="` + metadata + `"`},
	} {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, resource, strings.NewReader(initialize))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		resp, body, err := do(req, call.token)
		if err != nil {
			return s.fail(err)
		}
		if resp.StatusCode != call.status || !strings.Contains(resp.Header.Get("WWW-Authenticate"), call.challenge) {
			return s.fail(fmt.Errorf("initialize at %s (token: %t) answered %d, WWW-Authenticate %q, body %q; want %d and a challenge with %q",
				resource, call.token != "", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body, call.status, call.challenge))
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metadata, nil)
	if err != nil {
		return err
	}
	resp, body, err := do(req, "")
	if err != nil {
		return s.fail(err)
	}
	var md struct {
		Resource string `json:"resource"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &md) != nil || md.Resource != resource {
		return s.fail(fmt.Errorf("GET %s answered %d %q; want 200 and the resource %s", metadata, resp.StatusCode, body, resource))
	}
	return nil
}

// callGRPC runs the gRPC server at bin over TLS, calls GetCountry with
// the client program (which gets its own token from the issuer), and
// sends a call without a token, which must be Unauthenticated with a
// Bearer challenge.
func (c *consumer) callGRPC(ctx context.Context, dir, bin, clientBin string) error {
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	pool, err := writeCert(certFile, keyFile)
	if err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	s, err := start(ctx, bin, "ISSUER_URL="+c.iss.URL(), "ADDR="+addr, "TLS_CERT_FILE="+certFile, "TLS_KEY_FILE="+keyFile)
	if err != nil {
		return err
	}
	defer s.stop()
	if err := s.waitListening(ctx, addr); err != nil {
		return err
	}
	call := exec.CommandContext(ctx, clientBin)
	call.Env = append(os.Environ(), "ADDR="+addr, "TOKEN_URL="+c.iss.TokenURL(), "CLIENT_ID="+clientID, "CLIENT_SECRET="+clientSecret, "SSL_CERT_FILE="+certFile)
	out, err := call.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "Australia" {
		return s.fail(fmt.Errorf("the client: %v, printed %q; want Australia", err, out))
	}

	// The same call without a token, as gRPC sends it over HTTP/2.
	msg := []byte{0x0a, 3, 'A', 'U', 'S'} // GetCountryRequest{code: "AUS"}
	frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg)))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+addr+"/country.v1.CountryService/GetCountry", bytes.NewReader(append(frame, msg...)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("TE", "trailers")
	h2 := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool},
		ForceAttemptHTTP2: true,
	}}
	resp, err := h2.Do(req)
	if err != nil {
		return s.fail(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	get := func(k string) string {
		if v := resp.Trailer.Get(k); v != "" {
			return v
		}
		return resp.Header.Get(k)
	}
	if get("grpc-status") != "16" || !strings.HasPrefix(get("www-authenticate"), "Bearer ") {
		return s.fail(fmt.Errorf("GetCountry without a token: grpc-status %q, www-authenticate %q; want 16 (Unauthenticated) and a Bearer challenge", get("grpc-status"), get("www-authenticate")))
	}
	return nil
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key,
// and returns a pool that trusts it.
func writeCert(certFile, keyFile string) (*x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "consumer test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool, nil
}

// callConnect runs the Connect API at bin and calls GetCountry over the
// Connect protocol (JSON over HTTP/1.1) with a token carrying the scope
// (200 and the country) and without one (401, a Bearer challenge and the
// Connect error unauthenticated).
func (c *consumer) callConnect(ctx context.Context, bin string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	s, err := start(ctx, bin, "ISSUER_URL="+c.iss.URL(), "ADDR="+addr)
	if err != nil {
		return err
	}
	defer s.stop()
	if err := s.waitListening(ctx, addr); err != nil {
		return err
	}
	token, err := c.iss.Mint(map[string]any{"scope": scope, "client_id": clientID})
	if err != nil {
		return err
	}
	url := "http://" + addr + "/country.v1.CountryService/GetCountry"
	return acceptAndRefuse(s, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"code":"AUS"}`))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}, token,
		answer{status: http.StatusOK, body: `"Australia"`},
		answer{status: http.StatusUnauthorized, body: `"unauthenticated"`, challenge: `Bearer realm="`})
}

// callSPIFFE runs the SPIFFE API at bin against a Workload API that
// streams the in-process issuer's keys as example.org's bundle, and calls
// it with a JWT-SVID of that trust domain (as SPIRE issues them: typ JWT,
// no iss) and without a token.
func (c *consumer) callSPIFFE(ctx context.Context, bin string) error {
	keys, err := json.Marshal(c.iss.JWKS())
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(c.tmp, "spiffe-")
	if err != nil {
		return err
	}
	socket, stop, err := startWorkloadAPI(filepath.Join(dir, "agent.sock"), map[string][]byte{"spiffe://example.org": keys})
	if err != nil {
		return err
	}
	defer stop()
	svid, err := c.iss.Mint(map[string]any{"iss": nil, "jti": nil, "client_id": nil, "sub": "spiffe://example.org/checkout", "aud": "spiffe://example.org/country-api"}, bearertest.WithHeader("typ", "JWT"))
	if err != nil {
		return err
	}
	return c.callHTTP(ctx, bin, svid, "SPIFFE_ENDPOINT_SOCKET="+socket)
}

// callGateway runs the gateway program at bin with a configuration that
// guards the country API's route, and asks it as Traefik, Caddy and
// nginx do (forward-auth): with a token carrying the scope (200, and the
// client's id in the header for upstream, whatever the client sent in
// it) and without one (401 and a Bearer challenge).
func (c *consumer) callGateway(ctx context.Context, bin string) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	config := filepath.Join(c.tmp, "gateway.yaml")
	if err := os.WriteFile(config, []byte(`listen:
  http: `+addr+`
issuers:
  - issuer-uri: ${ISSUER_URL}
    audiences: [country-api]
routes:
  - path: /country/code/{code}
    methods: [GET]
    policy: {scopes: [country.read]}
`), 0o644); err != nil {
		return err
	}
	s, err := start(ctx, bin, "ISSUER_URL="+c.iss.URL(), "GATEWAY_CONFIG="+config)
	if err != nil {
		return err
	}
	defer s.stop()
	if err := s.waitListening(ctx, addr); err != nil {
		return err
	}
	token, err := c.iss.Mint(map[string]any{"scope": scope, "client_id": clientID})
	if err != nil {
		return err
	}
	url := "http://" + addr + "/auth"
	return acceptAndRefuse(s, func() (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err == nil {
			req.Header.Set("X-Forwarded-Method", http.MethodGet)
			req.Header.Set("X-Forwarded-Proto", "https")
			req.Header.Set("X-Forwarded-Host", "country.example.com")
			req.Header.Set("X-Forwarded-Uri", "/country/code/AUS")
			req.Header.Set("X-Auth-Client-Id", "root") // a client naming itself
		}
		return req, err
	}, token,
		answer{status: http.StatusOK, header: map[string]string{"X-Auth-Client-Id": clientID}},
		answer{status: http.StatusUnauthorized, challenge: `Bearer realm="`, header: map[string]string{"X-Auth-Client-Id": ""}})
}
