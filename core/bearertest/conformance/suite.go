package conformance

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// Serve starts the server under test on 127.0.0.1 with the routes of this
// package (each answering GET and POST), guarded by c, stops it when t
// ends, and returns its base URL ("http://127.0.0.1:port"). Run calls it
// once per verifier configuration.
type Serve func(t *testing.T, c bearer.Checker) string

// ServeTLS starts the server under test as Serve does, but over TLS with
// cfg: its certificate for 127.0.0.1, and its request for a client
// certificate, which the server must not check itself (the token's
// binding is the check). It returns the base URL
// ("https://127.0.0.1:port"). Run sends it the cases whose client
// certificate comes from the TLS connection.
type ServeTLS func(t *testing.T, c bearer.Checker, cfg *tls.Config) string

// testCase is one request and the status every adapter must give; the
// headers and body must be what package bearer answers to the same request
// without any framework.
type testCase struct {
	name        string
	method      string // GET unless set
	path        string
	header      http.Header
	query       string // raw query, without "?"
	contentType string
	body        string
	status      int
	repeat      bool // send twice, judge the second (a replayed DPoP proof)
	// overTLS sends the request over a TLS connection on which the client
	// presents cert (none when nil): the certificate reaches the server
	// from the connection, not from a header.
	overTLS bool
	cert    *tls.Certificate
}

// Run sends every case to the servers serve starts and checks the status,
// the set of response headers and their values, and the body. The cases
// whose client certificate comes from the TLS connection go to the
// servers serveTLS starts, if one is given; without it they are skipped,
// saying so.
func Run(t *testing.T, serve Serve, serveTLS ...ServeTLS) {
	t.Helper()
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(Audience), bearertest.WithKeysFor(bearertest.CommonAlgorithms...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil}}
	t.Cleanup(client.CloseIdleConnections)

	for _, s := range suites(httpTransport) {
		t.Run(s.name, func(t *testing.T) {
			// The reference is a twin of the verifier served: DPoP proofs
			// are one-time, so each must see every request once.
			v, twin := newVerifier(t, iss.URL(), s.edit), newVerifier(t, iss.URL(), s.edit)
			cases := s.cases(t, iss)
			var base, tlsBase string
			var roots *x509.CertPool
			if slices.ContainsFunc(cases, func(tc testCase) bool { return !tc.overTLS }) {
				base = serve(t, v)
			}
			if len(serveTLS) > 0 && slices.ContainsFunc(cases, func(tc testCase) bool { return tc.overTLS }) {
				var cfg *tls.Config
				cfg, roots = tlsPair(t)
				tlsBase = serveTLS[0](t, v, cfg)
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					if !tc.overTLS {
						check(t, client, base, twin, tc)
						return
					}
					if tlsBase == "" {
						t.Skip(skipHTTPOverTLS)
					}
					// The certificate is the connection's: one per case.
					c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, TLSClientConfig: clientTLS(roots, tc.cert)}}
					defer c.CloseIdleConnections()
					check(t, c, tlsBase, twin, tc)
				})
			}
		})
	}

	t.Run("resource metadata document", func(t *testing.T) {
		checkMetadata(t, client, serve(t, newVerifier(t, iss.URL(), nil)))
	})

	t.Run("issuer unavailable", func(t *testing.T) {
		down, err := bearertest.NewIssuer(bearertest.WithAudience(Audience))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(down.Close)
		tok := down.MustMint(t, map[string]any{"scope": Scope})
		down.SetDown(true)
		dv := newVerifier(t, down.URL(), nil)
		dbase := serve(t, dv)
		for _, p := range []string{PathAuthenticated, PathScoped, PathPolicy} {
			t.Run(p, func(t *testing.T) {
				check(t, client, dbase, dv, testCase{name: p, path: p, header: bearerHeader(tok), status: http.StatusServiceUnavailable})
			})
		}
	})
}

// suite is a verifier configuration and the cases a server guarded by it
// must answer as package bearer does.
type suite struct {
	name  string
	edit  func(*bearer.Config)
	cases func(*testing.T, *bearertest.Issuer) []testCase
}

// suites are every configuration of the suite, with DPoP proofs made for
// requests as tr carries them.
func suites(tr transport) []suite {
	// Server nonces change with time: every verifier of the nonce suite,
	// the reference's included, reads one instant, so that none of them
	// hands out the next nonce while another still hands out this one.
	nonceClock := sync.OnceValue(time.Now)
	return []suite{
		{"default", nil, cases},
		{"query and form tokens", func(c *bearer.Config) { c.AllowQueryToken, c.AllowFormToken = true, true }, queryAndFormCases},
		{"form tokens only", func(c *bearer.Config) { c.AllowFormToken = true }, formOnlyCases},
		{"header and cookie tokens", func(c *bearer.Config) { c.TokenHeader, c.TokenCookie = TokenHeader, TokenCookie }, sourceCases},
		{"resource metadata in challenges", func(c *bearer.Config) { c.ResourceMetadata = Metadata.URL() }, metadataCases},
		{"DPoP", func(c *bearer.Config) { c.DPoP = &bearer.DPoP{PublicURL: PublicURL} }, dpopCases(tr)},
		{"DPoP required, with nonces", func(c *bearer.Config) {
			c.DPoP = &bearer.DPoP{PublicURL: PublicURL, Mode: bearer.DPoPRequired, NonceSecret: nonceSecret}
			c.Now = nonceClock
		}, dpopNonceCases(tr, nonceClock)},
		{"certificate-bound tokens", func(c *bearer.Config) { c.ClientCertHeader = ClientCertHeader }, mtlsCases},
		{"certificate-bound tokens, certificate from the TLS connection", nil, mtlsConnectionCases},
		revocationSuite(),
	}
}

// transport is how requests reach the server under test: by HTTP, or by
// another protocol (gRPC) whose calls package bearer sees with one method
// and with paths of their own, which DPoP proofs must name.
type transport struct {
	method string
	path   func(route string) string
}

// httpTransport sends each route's requests to the route itself.
var httpTransport = transport{method: http.MethodGet, path: func(route string) string { return route }}

// otherMethod is tr with another method than its own: GET for POST, POST
// for anything else.
func (tr transport) otherMethod() transport {
	if tr.method == http.MethodPost {
		tr.method = http.MethodGet
	} else {
		tr.method = http.MethodPost
	}
	return tr
}

func newVerifier(t *testing.T, issuer string, edit func(*bearer.Config)) *bearer.Verifier {
	t.Helper()
	cfg := bearer.Config{Issuer: issuer, Audiences: []string{Audience}, Validators: []bearer.Validator{Validator}, Logger: slog.New(slog.DiscardHandler)}
	if edit != nil {
		edit(&cfg)
	}
	v, err := bearer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// serverHeaders are the headers an HTTP server adds on its own; any other
// header beyond core's is something an adapter added.
var serverHeaders = []string{"Date", "Content-Length"}

func check(t *testing.T, client *http.Client, base string, v *bearer.Verifier, tc testCase) {
	t.Helper()
	if tc.repeat {
		reference(v, tc)
		send(t, client, base, tc)
	}
	claims, want := reference(v, tc)
	if want.Status != tc.status {
		t.Fatalf("the suite expects %d but package bearer answers %d", tc.status, want.Status)
	}
	resp, body := send(t, client, base, tc)
	if resp.StatusCode != tc.status {
		t.Fatalf("status = %d; want %d (body %s)", resp.StatusCode, tc.status, body)
	}
	if tc.status == http.StatusOK {
		if got, want := strings.TrimSpace(string(body)), string(Body(claims, claims)); got != want {
			t.Fatalf("body = %s; want %s", got, want)
		}
		if c := resp.Header.Get("WWW-Authenticate"); c != "" {
			t.Fatalf("accepted request got a challenge %q", c)
		}
		for name, values := range bearer.AcceptHeaderOf(v) {
			if got := resp.Header.Values(name); !slices.Equal(got, values) {
				t.Errorf("accepted: %s = %q; want %q", name, got, values)
			}
		}
		return
	}
	for name, values := range want.Header {
		if got := resp.Header.Values(name); !slices.Equal(got, values) {
			t.Errorf("%s = %q; want %q", name, got, values)
		}
	}
	for name := range resp.Header {
		if want.Header.Values(name) == nil && !slices.Contains(serverHeaders, name) {
			t.Errorf("extra header %s: %q", name, resp.Header.Values(name))
		}
	}
	if string(body) != string(want.Body) {
		t.Errorf("body = %s; want %s", body, want.Body)
	}
}

func send(t *testing.T, client *http.Client, base string, tc testCase) (*http.Response, []byte) {
	t.Helper()
	method := tc.method
	if method == "" {
		method = http.MethodGet
	}
	u := base + tc.path
	if tc.query != "" {
		u += "?" + tc.query
	}
	req, err := http.NewRequest(method, u, strings.NewReader(tc.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = tc.header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if tc.contentType != "" {
		req.Header.Set("Content-Type", tc.contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// reference is core's answer to the request, computed without any
// framework: what every adapter must reproduce.
func reference(v *bearer.Verifier, tc testCase) (*bearer.Claims, bearer.Response) {
	return referenceTo(v, tc, plainRequest{tc})
}

// referenceTo is reference for the request r that carries tc, whose route
// (tc.path) decides the policies. The claims are a copy, for Body to
// change.
func referenceTo(v *bearer.Verifier, tc testCase, r bearer.Request) (*bearer.Claims, bearer.Response) {
	var policies []bearer.Policy
	switch tc.path {
	case PathScoped:
		policies = []bearer.Policy{bearer.RequireScope(Scope)}
	case PathPolicy:
		policies = []bearer.Policy{Policy}
	case PathSkipped:
		return nil, bearer.Response{Status: http.StatusOK}
	}
	c, err := v.Check(context.Background(), r, policies...)
	switch {
	case err == nil:
		return c.Clone(), bearer.Response{Status: http.StatusOK}
	case tc.path == PathOptional && errors.Is(err, bearer.ErrMissingToken):
		return nil, bearer.Response{Status: http.StatusOK}
	}
	return nil, v.Response(err)
}

// plainRequest is the request as core sees it, read as net/http reads it.
type plainRequest struct{ tc testCase }

func (r plainRequest) Header(name string) []string {
	h := r.tc.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if r.tc.contentType != "" {
		h.Set("Content-Type", r.tc.contentType)
	}
	return h.Values(name)
}

func (r plainRequest) Query(name string) []string {
	q, _ := url.ParseQuery(r.tc.query)
	return q[name]
}

func (r plainRequest) Form(name string) []string {
	f, err := url.ParseQuery(r.tc.body)
	if err != nil {
		return nil
	}
	return f[name]
}

func (r plainRequest) Path() string { return r.tc.path }

func (r plainRequest) ClientCertificate() *x509.Certificate {
	if r.tc.cert == nil {
		return nil
	}
	return r.tc.cert.Leaf
}

func (r plainRequest) Method() string {
	if r.tc.method == "" {
		return http.MethodGet
	}
	return r.tc.method
}

func bearerHeader(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

// metadataCases are the answers that carry a challenge, from a verifier
// that names its RFC 9728 metadata.
func metadataCases(t *testing.T, iss *bearertest.Issuer) []testCase {
	tok := iss.MustMint(t, map[string]any{"scope": "customer.read"})
	return []testCase{
		{name: "no token", path: PathScoped, status: 401},
		{name: "bad token", path: PathScoped, header: bearerHeader("not-a-token"), status: 401},
		{name: "missing scope", path: PathScoped, header: bearerHeader(tok), status: 403},
		{name: "two Authorization headers", path: PathScoped, header: http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}, status: 400},
	}
}

// checkMetadata fetches the metadata document as a client would.
func checkMetadata(t *testing.T, client *http.Client, base string) {
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, base+Metadata.Path(), nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := string(Metadata.Document())
		if method == http.MethodHead {
			want = ""
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "max-age=3600" || string(body) != want {
			t.Errorf("%s %s: %d, Content-Type %q, Cache-Control %q, body %s", method, Metadata.Path(), resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), body)
		}
	}
}
