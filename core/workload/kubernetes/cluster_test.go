package kubernetes

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

const clusterIssuer = "https://kubernetes.default.svc.cluster.local"

// testCA is a certificate authority of the test's own.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// serving is a certificate for 127.0.0.1 signed by ca, as an API server's.
func (ca *testCA) serving(t *testing.T) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "kube-apiserver"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"kubernetes.default.svc"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// apiServer plays the parts of a Kubernetes API server that InCluster
// uses: discovery and JWKS, served over TLS with a certificate of its own
// CA, to requests that carry a token it accepts.
type apiServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	cert     *tls.Certificate
	accepted map[string]bool // bearer tokens the server takes
	issuer   string
	keys     []*bearertest.Key
	seen     []string // the bearer token of every request, by path
	refused  int
}

func newAPIServer(t *testing.T, ca *testCA, token string, keys ...*bearertest.Key) *apiServer {
	t.Helper()
	a := &apiServer{cert: ca.serving(t), accepted: map[string]bool{token: true}, issuer: clusterIssuer, keys: keys}
	a.srv = httptest.NewUnstartedServer(http.HandlerFunc(a.serve))
	// The certificate is chosen per connection, so the test can rotate it.
	a.srv.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		return &tls.Config{Certificates: []tls.Certificate{*a.cert}}, nil
	}}
	a.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

func (a *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.seen = append(a.seen, r.URL.Path+" "+tok)
	if !ok || !a.accepted[tok] {
		a.refused++
		http.Error(w, `{"kind":"Status","code":401}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case discoveryPath:
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": a.issuer, "jwks_uri": "https://172.18.0.2:6443" + jwksPath})
	case jwksPath:
		set := []any{}
		for _, k := range a.keys {
			set = append(set, k.PublicJWK())
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": set})
	default:
		http.NotFound(w, r)
	}
}

func (a *apiServer) set(f func(a *apiServer)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	f(a)
}

func (a *apiServer) lastToken(path string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.seen) - 1; i >= 0; i-- {
		if p, tok, _ := strings.Cut(a.seen[i], " "); p == path {
			return tok
		}
	}
	return ""
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func replaceFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path+".new", b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
}

// cluster is a pod's view of its cluster: the mounted files, the API
// server, the kubelet minting the pod's token, and a Verifier built by
// InCluster.
type cluster struct {
	clk       *clock
	mint      *bearertest.Issuer // signs with the cluster's keys
	key       *bearertest.Key
	api       *apiServer
	tokenFile string
	caFile    string
	transport *clusterTransport
	v         *bearer.Verifier
}

func (c *cluster) podToken(t *testing.T) string {
	t.Helper()
	return c.mint.MustMint(t, map[string]any{
		"iss": clusterIssuer, "aud": []string{clusterIssuer, "rke2"}, "client_id": nil,
		"sub":           "system:serviceaccount:shop:orders",
		"kubernetes.io": map[string]any{"namespace": "shop", "serviceaccount": map[string]any{"name": "orders", "uid": "1"}},
	}, bearertest.WithKey(c.key), bearertest.WithHeader("typ", nil))
}

// callerToken is a token another pod presents to this API.
func (c *cluster) callerToken(t *testing.T, k *bearertest.Key, set ...map[string]any) string {
	t.Helper()
	claims := map[string]any{
		"iss": clusterIssuer, "aud": []string{"orders"}, "client_id": nil,
		"sub": "system:serviceaccount:shop:checkout",
		"kubernetes.io": map[string]any{
			"namespace": "shop", "serviceaccount": map[string]any{"name": "checkout", "uid": "2"},
			"pod": map[string]any{"name": "checkout-7d9f", "uid": "3"}, "node": map[string]any{"name": "node-a", "uid": "4"},
		},
	}
	for _, s := range set {
		for n, v := range s {
			claims[n] = v
		}
	}
	return c.mint.MustMint(t, claims, bearertest.WithKey(k), bearertest.WithHeader("typ", nil))
}

func newCluster(t *testing.T, edit ...func(*Config)) *cluster {
	t.Helper()
	c := &cluster{clk: &clock{t: time.Now()}}
	var err error
	if c.key, err = bearertest.NewKey("RS256"); err != nil {
		t.Fatal(err)
	}
	if c.mint, err = bearertest.NewIssuer(bearertest.WithClock(c.clk.Now)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.mint.Close)
	dir := t.TempDir()
	c.tokenFile, c.caFile = filepath.Join(dir, "token"), filepath.Join(dir, "ca.crt")
	ca := newCA(t, "cluster-ca")
	pod := c.podToken(t)
	replaceFile(t, c.tokenFile, []byte(pod))
	replaceFile(t, c.caFile, ca.pem)
	c.api = newAPIServer(t, ca, pod, c.key)

	cfg := Config{Audiences: []string{"orders"}, APIServer: c.api.srv.URL, TokenFile: c.tokenFile, CAFile: c.caFile}
	for _, e := range edit {
		e(&cfg)
	}
	bc, err := cfg.InCluster()
	if err != nil {
		t.Fatal(err)
	}
	c.transport = bc.HTTPClient.Transport.(*clusterTransport)
	c.transport.now = c.clk.Now
	bc.Now, bc.Logger = c.clk.Now, slog.New(slog.DiscardHandler)
	if c.v, err = bearer.New(bc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.v.Close() })
	return c
}

func (c *cluster) verify(tok string) (*bearer.Claims, error) {
	return c.v.Verify(context.Background(), tok)
}

// The keys come from the API server, asked with the pod's token over TLS
// to the cluster CA alone, after its discovery names the issuer; the
// issuer is the pod token's own.
func TestInCluster(t *testing.T) {
	c := newCluster(t)
	claims, err := c.verify(c.callerToken(t, c.key))
	if err != nil {
		t.Fatal(err)
	}
	if claims.ClientID != "system:serviceaccount:shop:checkout" || claims.Issuer != clusterIssuer {
		t.Errorf("ClientID %q, Issuer %q", claims.ClientID, claims.Issuer)
	}
	k, err := ClaimsOf(claims)
	if err != nil || k.Pod.Name != "checkout-7d9f" || k.Node.Name != "node-a" || k.ServiceAccount.UID != "2" {
		t.Errorf("ClaimsOf = %+v, %v", k, err)
	}
	pod, _ := os.ReadFile(c.tokenFile)
	for _, path := range []string{discoveryPath, jwksPath} {
		if got := c.api.lastToken(path); got != string(pod) {
			t.Errorf("%s was asked with token %.20q; want the pod's", path, got)
		}
	}
	// The pod's own token (the API server's audience) is never accepted,
	// nor is one that names the API server besides this API.
	for _, aud := range []any{[]string{clusterIssuer}, []string{"orders", "rke2"}, []string{"orders", "https://kubernetes.default.svc"}} {
		tok := c.callerToken(t, c.key, map[string]any{"aud": aud})
		if _, err := c.verify(tok); !errors.Is(err, bearer.ErrAudience) && !errors.Is(err, bearer.ErrClaim) {
			t.Errorf("aud %v: err = %v; want a refusal", aud, err)
		}
	}
	if _, err := c.verify(string(pod)); err == nil {
		t.Error("the pod's own token was accepted")
	}

	// The transport sends the pod's token nowhere else.
	req, _ := http.NewRequest(http.MethodGet, "https://example.com"+jwksPath, nil)
	if _, err := c.transport.RoundTrip(req); !errors.Is(err, errOtherOrigin) {
		t.Errorf("another origin: %v", err)
	}
}

// The kubelet rotates the pod's token: the API server refuses the old
// one, and the new file is read at once.
func TestInClusterTokenRotation(t *testing.T) {
	c := newCluster(t)
	if _, err := c.verify(c.callerToken(t, c.key)); err != nil {
		t.Fatal(err)
	}
	fresh := c.podToken(t)
	replaceFile(t, c.tokenFile, []byte(fresh))
	c.api.set(func(a *apiServer) { a.accepted = map[string]bool{fresh: true} })

	// A key the cluster started signing with: its kid sends the Verifier
	// to the API server again (once the unknown-kid cooldown allows).
	k2, err := bearertest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	c.api.set(func(a *apiServer) { a.keys = append(a.keys, k2) })
	c.clk.Advance(11 * time.Second)
	if _, err := c.verify(c.callerToken(t, k2)); err != nil {
		t.Fatalf("after the pod token's rotation: %v", err)
	}
	if got := c.api.lastToken(jwksPath); got != fresh {
		t.Errorf("the JWKS was fetched with %.20q; want the rotated token", got)
	}
}

// Files are also read again on schedule, before anything fails.
func TestInClusterReadsOnSchedule(t *testing.T) {
	c := newCluster(t)
	if _, err := c.verify(c.callerToken(t, c.key)); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(c.tokenFile)
	fresh := c.podToken(t)
	replaceFile(t, c.tokenFile, []byte(fresh))
	c.api.set(func(a *apiServer) { a.accepted[fresh] = true }) // both, as during a real rotation
	k2, _ := bearertest.NewKey("RS256")
	c.api.set(func(a *apiServer) { a.keys = append(a.keys, k2) })

	c.clk.Advance(11 * time.Second) // within Reread: the old token is still sent
	if _, err := c.verify(c.callerToken(t, k2)); err != nil {
		t.Fatal(err)
	}
	if got := c.api.lastToken(jwksPath); got != string(old) {
		t.Errorf("the token file was read again within Reread")
	}
	k3, _ := bearertest.NewKey("RS256")
	c.api.set(func(a *apiServer) { a.keys = append(a.keys, k3) })
	c.clk.Advance(DefaultReread)
	if _, err := c.verify(c.callerToken(t, k3)); err != nil {
		t.Fatal(err)
	}
	if got := c.api.lastToken(jwksPath); got != fresh {
		t.Errorf("the token file was not read again after Reread")
	}
}

// The cluster CA rotates: the API server's new certificate is signed by
// a CA the old ca.crt lacks, and the new file is read at once.
func TestInClusterCARotation(t *testing.T) {
	c := newCluster(t)
	if _, err := c.verify(c.callerToken(t, c.key)); err != nil {
		t.Fatal(err)
	}
	ca2 := newCA(t, "cluster-ca-2")
	c.api.set(func(a *apiServer) { a.cert = ca2.serving(t) })
	k2, _ := bearertest.NewKey("RS256")
	c.api.set(func(a *apiServer) { a.keys = append(a.keys, k2) })
	c.api.srv.CloseClientConnections()

	// Before the kubelet updates ca.crt, the new certificate is refused:
	// the API server is unreachable as far as the Verifier can tell.
	c.clk.Advance(11 * time.Second)
	if _, err := c.verify(c.callerToken(t, k2)); !errors.Is(err, bearer.ErrUnknownKey) {
		t.Fatalf("a certificate of an unknown CA: err = %v; want the key not found", err)
	}
	replaceFile(t, c.caFile, ca2.pem)
	c.clk.Advance(11 * time.Second)
	if _, err := c.verify(c.callerToken(t, k2)); err != nil {
		t.Fatalf("after the CA file's rotation: %v", err)
	}
}

// The API server's discovery must name the issuer the tokens are checked
// against; if it names another, no keys are taken from it.
func TestInClusterDiscoveryNamesTheIssuer(t *testing.T) {
	c := newCluster(t)
	c.api.set(func(a *apiServer) { a.issuer = "https://oidc.example.com/id/123" })
	_, err := c.verify(c.callerToken(t, c.key))
	if !errors.Is(err, bearer.ErrIssuerUnavailable) {
		t.Fatalf("err = %v; want the issuer unavailable", err)
	}
	if st := c.v.Status(); st.LastError == nil || !strings.Contains(st.LastError.Error(), "names the issuer") {
		t.Errorf("status error %v does not say why", st.LastError)
	}
}

func TestInClusterConfigErrors(t *testing.T) {
	dir := t.TempDir()
	mint, err := bearertest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	defer mint.Close()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		replaceFile(t, p, b)
		return p
	}
	ca := newCA(t, "ca")
	caFile := write("ca.crt", ca.pem)
	pod := write("token", []byte(mint.MustMint(t, map[string]any{"iss": clusterIssuer, "aud": []string{"https://api.internal"}})))
	legacy := write("legacy", []byte(mint.MustMint(t, map[string]any{"iss": LegacyIssuer, "aud": nil, "exp": nil})))
	ok := Config{Audiences: []string{"orders"}, APIServer: "https://127.0.0.1:6443", TokenFile: pod, CAFile: caFile}
	if _, err := ok.InCluster(); err != nil {
		t.Fatalf("a valid config: %v", err)
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	for name, edit := range map[string]func(*Config){
		"no audience":                 func(c *Config) { c.Audiences = nil },
		"the pod token's audience":    func(c *Config) { c.Audiences = []string{"https://api.internal"} },
		"the issuer as audience":      func(c *Config) { c.Audiences = []string{"orders", clusterIssuer} },
		"a default API audience":      func(c *Config) { c.Audiences = []string{"https://kubernetes.default.svc"} },
		"a configured API audience":   func(c *Config) { c.APIServerAudiences = []string{"orders"} },
		"another issuer":              func(c *Config) { c.Issuer = "https://oidc.eks.eu-west-1.amazonaws.com/id/X" },
		"a legacy pod token":          func(c *Config) { c.TokenFile = legacy },
		"no token file":               func(c *Config) { c.TokenFile = filepath.Join(dir, "missing") },
		"an empty token file":         func(c *Config) { c.TokenFile = write("empty", nil) },
		"a token file that is no JWT": func(c *Config) { c.TokenFile = write("junk", []byte("abc")) },
		"no CA file":                  func(c *Config) { c.CAFile = filepath.Join(dir, "missing") },
		"a CA file of no certificate": func(c *Config) { c.CAFile = write("bad.crt", []byte("-----BEGIN NOTHING-----")) },
		"an http API server":          func(c *Config) { c.APIServer = "http://127.0.0.1:6443" },
		"an API server with a path":   func(c *Config) { c.APIServer = "https://127.0.0.1:6443/api" },
		"no API server, no env":       func(c *Config) { c.APIServer = "" },
	} {
		c := ok
		edit(&c)
		if _, err := c.InCluster(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1")
	t.Setenv("KUBERNETES_SERVICE_PORT", "443")
	env := ok
	env.APIServer = ""
	bc, err := env.InCluster()
	if err != nil || bc.JWKSURL != "https://10.96.0.1:443/openid/v1/jwks" {
		t.Errorf("from the environment: %q, %v", bc.JWKSURL, err)
	}
}

func TestTokenIssuer(t *testing.T) {
	for tok, want := range map[string]string{
		"e30." + b64(`{"iss":"https://a","aud":"x"}`) + ".c":       "https://a x",
		"e30." + b64(`{"iss":"https://a","aud":["x","y"]}`) + ".c": "https://a x,y",
		"e30." + b64(`{"iss":"https://a"}`) + ".c":                 "https://a ",
	} {
		iss, aud, err := tokenIssuer(tok)
		if got := iss + " " + strings.Join(aud, ","); err != nil || got != want {
			t.Errorf("tokenIssuer(%q) = %q, %v; want %q", tok, got, err, want)
		}
	}
	for _, tok := range []string{"", "a.b", "a.b.c.d", "e30.!!.c", "e30." + b64(`{"aud":"x"}`) + ".c", "e30." + b64(`{"iss":"https://a","aud":1}`) + ".c", "e30." + b64(`[]`) + ".c"} {
		if iss, _, err := tokenIssuer(tok); err == nil {
			t.Errorf("tokenIssuer(%q) = %q", tok, iss)
		}
	}
}

func b64(s string) string {
	return strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(base64Std(s)), "=")
}

func base64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
