package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

// The conformance suite every adapter passes, run through the
// forward-auth front door: each request of the suite reaches a proxy,
// which asks the gateway as Traefik's ForwardAuth does (the original
// request's headers, X-Forwarded-Method, -Uri, -Host and -Proto, and the
// body, as Traefik's forwardBody and Envoy's with_request_body forward
// it), then passes an accepted request upstream with the claim headers
// and returns a refused one's reply unchanged. The answers must be the
// middleware's, byte for byte.
//
// The cases whose client certificate comes from the TLS connection reach
// the gateway as they reach it
// behind Envoy: the proxy terminates TLS and forwards the client's
// certificate in x-forwarded-client-cert, replacing any the client sent.
func TestConformanceThroughForwardAuth(t *testing.T) {
	conformance.Run(t, serveFrontDoor, serveFrontDoorTLS)
}

func serveFrontDoor(t *testing.T, c bearer.Checker) string {
	front := httptest.NewServer(frontDoor(t, c))
	t.Cleanup(front.Close)
	return front.URL
}

func serveFrontDoorTLS(t *testing.T, c bearer.Checker, cfg *tls.Config) string {
	front := httptest.NewUnstartedServer(frontDoor(t, c))
	front.TLS = cfg
	front.StartTLS()
	t.Cleanup(front.Close)
	return front.URL
}

// frontDoor is the proxy in front of the suite's routes, asking a gateway
// that decides with c.
func frontDoor(t *testing.T, c bearer.Checker) http.Handler {
	g := conformanceGateway(t, c)
	gw := httptest.NewServer(http.HandlerFunc(g.forwardAuth))
	t.Cleanup(gw.Close)
	mux := http.NewServeMux()
	mux.Handle(conformance.Metadata.Path(), g.metadata) // proxies route it to bouncer serve
	mux.Handle("/", &forwardAuthProxy{auth: gw.URL + "/auth", claims: g.headers.all, upstream: http.HandlerFunc(conformanceUpstream)})
	return mux
}

// conformanceGateway is the gateway configured with the suite's routes,
// deciding with the suite's verifier c.
func conformanceGateway(t *testing.T, c bearer.Checker) *Gateway {
	t.Helper()
	cfg, err := parse(t, `
issuers:
  - issuer-uri: https://sso.example.com/realms/services
    audiences: [conformance-api]
tokens:
  allow-form-body: `+boolText(readsFormTokens(c))+`
routes:
  - path: /authenticated
  - path: /scoped
    policy:
      scopes: [country.read]
  - path: /policy
    policy:
      any-scopes: [country.write, country.read]
      scopes-or-app-permissions:
        scopes: [customer.read]
        app-permissions: [Customer.Read.All]
  - path: /optional
    auth: optional
  - path: /skipped
    auth: skip
mtls:
  source: xfcc
resource-metadata:
  resource: http://localhost/country
  authorization-servers: [https://sso.example.com/realms/services]
  scopes-supported: [country.read]
  resource-name: Conformance API
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler), checker: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return g
}

// readsFormTokens asks c whether it reads tokens from form bodies: a
// form token it reads is judged (and refused as malformed), one it does
// not is missing.
func readsFormTokens(c bearer.Checker) bool {
	_, err := c.Check(context.Background(), formProbe{})
	return !errors.Is(err, bearer.ErrMissingToken)
}

type formProbe struct{}

func (formProbe) Header(name string) []string {
	if http.CanonicalHeaderKey(name) == "Content-Type" {
		return []string{"application/x-www-form-urlencoded"}
	}
	return nil
}
func (formProbe) Query(string) []string                { return nil }
func (formProbe) Method() string                       { return http.MethodPost }
func (formProbe) Form(name string) []string            { return []string{"x"} }
func (formProbe) Path() string                         { return "/" }
func (formProbe) ClientCertificate() *x509.Certificate { return nil }

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// forwardAuthProxy does what Traefik's ForwardAuth does with
// authResponseHeaders naming the claim headers.
type forwardAuthProxy struct {
	auth     string
	claims   []string
	upstream http.Handler
}

func (p *forwardAuthProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	method := http.MethodGet
	if len(body) > 0 {
		method = http.MethodPost
	}
	req, _ := http.NewRequestWithContext(r.Context(), method, p.auth, bytes.NewReader(body))
	req.Header = r.Header.Clone()
	req.Header.Set("X-Forwarded-Method", r.Method)
	req.Header.Set("X-Forwarded-Uri", r.URL.RequestURI())
	req.Header.Set("X-Forwarded-Host", r.Host)
	req.Header.Set("X-Forwarded-Proto", "http")
	// As Envoy's SANITIZE_SET: the certificate of this connection, or none.
	req.Header.Del("X-Forwarded-Client-Cert")
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		cert := r.TLS.PeerCertificates[0]
		sum := sha256.Sum256(cert.Raw)
		pemText := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
		req.Header.Set("X-Forwarded-Client-Cert", "Hash="+hex.EncodeToString(sum[:])+`;Cert="`+url.QueryEscape(string(pemText))+`"`)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	reply, _ := io.ReadAll(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		for name, values := range resp.Header {
			if name != "Date" && name != "Content-Length" {
				w.Header()[name] = values
			}
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(reply)
		return
	}
	up := r.Clone(r.Context())
	up.Body = io.NopCloser(bytes.NewReader(body))
	for _, name := range p.claims {
		up.Header.Del(name)
		if v := resp.Header.Values(name); len(v) > 0 {
			up.Header[name] = v
		}
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		w.Header().Set("DPoP-Nonce", n)
	}
	p.upstream.ServeHTTP(w, up)
}

// conformanceUpstream is the service behind the proxy: it answers as the
// suite's handlers do, from the claim headers alone.
func conformanceUpstream(w http.ResponseWriter, r *http.Request) {
	out := struct {
		ClientID string   `json:"client_id"`
		Scopes   []string `json:"scopes"`
		Same     bool     `json:"same"`
	}{ClientID: r.Header.Get(DefaultClientIDHeader), Same: r.Header.Get(DefaultIssuerHeader) != ""}
	if s := r.Header.Get(DefaultScopesHeader); s != "" {
		out.Scopes = strings.Split(s, " ")
	}
	b, _ := json.Marshal(out)
	_, _ = w.Write(b)
}
