package bearertest

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// An Issuer is an OAuth2 authorization server listening on a loopback port,
// with its own signing keys and registered clients. Create one with
// [NewIssuer] and stop it with [Issuer.Close]; the zero Issuer is not
// usable. All methods are safe for concurrent use, also while requests are
// being served.
type Issuer struct {
	srv  *httptest.Server
	url  string // issuer identifier: origin and path
	path string // issuer path, "" or "/a/b"
	base string // where the endpoints are: url, or the origin of a multi-tenant issuer
	cfg  config

	jwksFetches      atomic.Int64
	discoveryFetches atomic.Int64
	introspections   atomic.Int64
	closeOnce        sync.Once

	mu          sync.Mutex
	current     map[string]*Key // current signing key per algorithm
	published   []*Key          // keys in the JWKS, in publication order
	clients     map[string]client
	down        bool
	jwksHandler http.Handler
	opaque      map[string]map[string]any // opaque token → its claims
}

// NewIssuer starts an issuer. It generates the signing key of the token
// algorithm (RS256 unless [WithTokenAlg] says otherwise), and those of
// [WithKeysFor], at once; keys for
// other algorithms are generated, and published, when first used.
func NewIssuer(opts ...Option) (*Issuer, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	if err := cfg.err(); err != nil {
		return nil, err
	}
	i := &Issuer{
		path:    cfg.path,
		cfg:     cfg,
		current: make(map[string]*Key),
		clients: make(map[string]client),
	}
	for _, c := range cfg.clients {
		i.clients[c.id] = c
	}
	for _, alg := range append([]string{cfg.tokenAlg}, cfg.startKeys...) {
		if _, err := i.CurrentKey(alg); err != nil {
			return nil, err
		}
	}

	// httptest.NewServer panics when it cannot listen; listening here first
	// turns that, and a bad WithAddr, into an error.
	l, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, err
	}
	i.srv = &httptest.Server{
		Listener: l,
		Config: &http.Server{
			Handler:           http.HandlerFunc(i.serveHTTP),
			ReadHeaderTimeout: 10 * time.Second,
			// Clients that hang up or distrust the certificate are what
			// tests do on purpose; their errors are not worth a log line.
			ErrorLog: log.New(io.Discard, "", 0),
		},
	}
	scheme := "http"
	if cfg.tls {
		scheme = "https"
	}
	// The URLs are set before the server starts: its handlers read them,
	// and a client in another process gives the race detector no sign that
	// its request came after NewIssuer returned.
	i.url = scheme + "://" + reachableAddr(l.Addr()) + cfg.path
	i.base = i.url
	if cfg.tenants {
		i.base = scheme + "://" + reachableAddr(l.Addr())
		i.url = i.base + "/" + tenantPlaceholder + "/v2.0"
	}
	if cfg.tls {
		// A client certificate is asked for, not required: a client that
		// presents one gets tokens bound to it (RFC 8705).
		i.srv.TLS = &tls.Config{MinVersion: tls.VersionTLS12, ClientAuth: tls.RequestClientCert}
		i.srv.StartTLS()
	} else {
		i.srv.Start()
	}
	return i, nil
}

// reachableAddr is the host:port to reach a listener at: a wildcard listen
// address is reached over loopback.
func reachableAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}

// Close stops the server and waits for requests in flight. It is safe to
// call more than once, and on a nil Issuer.
func (i *Issuer) Close() {
	if i == nil || i.srv == nil {
		return
	}
	i.closeOnce.Do(i.srv.Close)
}

// URL returns the issuer identifier: the "iss" of minted tokens and the
// "issuer" of the discovery document, with no trailing slash.
func (i *Issuer) URL() string { return i.url }

// JWKSURL returns the URL of the JSON Web Key Set.
func (i *Issuer) JWKSURL() string { return i.base + "/jwks" }

// TokenURL returns the URL of the token endpoint.
func (i *Issuer) TokenURL() string { return i.base + "/token" }

// DiscoveryURL returns the URL of the OpenID Connect discovery document.
func (i *Issuer) DiscoveryURL() string {
	if i.cfg.tenants {
		return i.base + "/common/v2.0/.well-known/openid-configuration"
	}
	return i.url + "/.well-known/openid-configuration"
}

// Client returns an HTTP client for the issuer: with [WithTLS] it trusts the
// issuer's certificate, otherwise it is a plain client.
func (i *Issuer) Client() *http.Client { return i.srv.Client() }

// serveHTTP routes a request. Counters count every request to their
// endpoint, also those answered 503 while the issuer is down, so that tests
// can see how often a verifier tries.
func (i *Issuer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	var h http.HandlerFunc
	path := r.URL.Path
	if i.cfg.tenants && isTenantDiscovery(path) {
		path = "/.well-known/openid-configuration"
	}
	switch path {
	case i.path + "/.well-known/openid-configuration",
		"/.well-known/oauth-authorization-server" + i.path:
		i.discoveryFetches.Add(1)
		h = i.serveDiscovery
	case i.path + "/jwks":
		i.jwksFetches.Add(1)
		h = i.serveJWKS
	case i.path + "/token":
		h = i.serveToken
	case i.path + "/introspect":
		i.introspections.Add(1)
		h = i.serveIntrospection
	case "/.well-known/ssf-configuration" + i.path:
		h = i.serveSSFConfiguration
	default:
		h = http.NotFound
	}
	i.mu.Lock()
	down := i.down
	i.mu.Unlock()
	if down {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "bearertest: issuer is down", http.StatusServiceUnavailable)
		return
	}
	h(w, r)
}

// allowMethods answers 405 unless the request uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}
