package kubernetes

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	josejson "github.com/go-jose/go-jose/v4/json"
)

// The API server serves its issuer's metadata and keys at fixed paths,
// whatever the issuer URL (Kubernetes' service account issuer discovery).
const (
	discoveryPath = "/.well-known/openid-configuration"
	jwksPath      = "/openid/v1/jwks"
)

// maxFileBytes bounds what is read of the token and CA files.
const maxFileBytes = 1 << 20

// InCluster returns the bearer.Config for the tokens of the cluster this
// pod runs in, with the keys read from the API server: its JWKS
// (/openid/v1/jwks), fetched with the pod's own token as bearer token and
// trusting only the cluster CA of CAFile, after its discovery document
// (/.well-known/openid-configuration) is found to name the issuer. The
// issuer is c.Issuer, or else the iss of the pod's own token, which the
// kubelet obtained from this API server: never a value a caller chose.
//
// The token and CA files are read here (a missing or unreadable one is an
// error, as is an issuer that is not the pod token's), then again when
// the kubelet rotates them: at most every Reread on their own, and at once
// (at most once a second) when the API server refuses the token or its
// certificate is signed by an authority the old CA file lacks. They are
// read only when keys are fetched, never per request. Nothing is fetched
// until the Verifier needs keys.
//
// The pod's service account needs no permission beyond the default: the
// role system:service-account-issuer-discovery is bound to every service
// account.
func (c Config) InCluster() (bearer.Config, error) {
	api, err := apiServerURL(c.APIServer)
	if err != nil {
		return bearer.Config{}, err
	}
	t := &clusterTransport{
		origin:    api,
		tokenFile: orDefault(c.TokenFile, DefaultTokenFile),
		caFile:    orDefault(c.CAFile, DefaultCAFile),
		every:     max(orDefault(c.Reread, DefaultReread), time.Second),
		retry:     time.Second,
		now:       time.Now,
	}
	if err := t.load(); err != nil {
		return bearer.Config{}, err
	}
	iss, podAudiences, err := tokenIssuer(t.state.Load().token)
	if err != nil {
		return bearer.Config{}, fmt.Errorf("kubernetes: %s: %w", t.tokenFile, err)
	}
	switch {
	case iss == LegacyIssuer:
		return bearer.Config{}, fmt.Errorf("kubernetes: %s is a legacy token (issuer kubernetes/serviceaccount): its cluster's issuer cannot be learned from it; set Config.Issuer", t.tokenFile)
	case c.Issuer != "" && c.Issuer != iss:
		return bearer.Config{}, fmt.Errorf("kubernetes: Config.Issuer %s is not the issuer of this pod's cluster, %s (the iss of %s)", c.Issuer, iss, t.tokenFile)
	}
	t.issuer = iss
	cfg, err := c.config(iss, podAudiences)
	if err != nil {
		return bearer.Config{}, err
	}
	cfg.JWKSURL = api.String() + jwksPath
	cfg.HTTPClient = &http.Client{Transport: t, Timeout: 15 * time.Second}
	return cfg, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// apiServerURL is the configured API server, or the one the environment
// of every pod names.
func apiServerURL(configured string) (*url.URL, error) {
	raw := configured
	if raw == "" {
		host, port := os.Getenv("KUBERNETES_SERVICE_HOST"), os.Getenv("KUBERNETES_SERVICE_PORT")
		if host == "" || port == "" {
			return nil, errors.New("kubernetes: not in a pod (KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set); set Config.APIServer, or use Config.Bearer outside the cluster")
		}
		raw = "https://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("kubernetes: the API server %q is not an https origin", raw)
	}
	u.Path = ""
	return u, nil
}

// tokenIssuer reads iss and aud of the pod's own token, without checking
// its signature: it is the kubelet's file, and is only ever sent to the
// API server, which checks it.
func tokenIssuer(token string) (string, []string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", nil, errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", nil, errors.New("not a JWT: its payload is not base64url")
	}
	var claims struct {
		Iss string              `json:"iss"`
		Aud josejson.RawMessage `json:"aud"`
	}
	// Member names match exactly and may not repeat, as bouncer reads
	// every token.
	if err := josejson.Unmarshal(payload, &claims); err != nil {
		return "", nil, fmt.Errorf("not a JWT: %v", err)
	}
	var aud []string
	if len(claims.Aud) > 0 && claims.Aud[0] == '"' {
		var one string
		err = josejson.Unmarshal(claims.Aud, &one)
		aud = []string{one}
	} else if len(claims.Aud) > 0 && !bytes.Equal(claims.Aud, []byte("null")) {
		err = josejson.Unmarshal(claims.Aud, &aud)
	}
	if err != nil || claims.Iss == "" {
		return "", nil, errors.New("the token names no issuer, or its aud is neither a string nor strings")
	}
	return claims.Iss, aud, nil
}

// clusterTransport carries the key fetches of a Verifier to the API
// server: it adds the pod's token, trusts only the cluster CA, and reads
// both files again as they rotate. It sends nothing anywhere else.
type clusterTransport struct {
	origin            *url.URL
	issuer            string
	tokenFile, caFile string
	every             time.Duration // least time between reads on schedule
	retry             time.Duration // least time between reads a refusal asks for
	now               func() time.Time

	mu       sync.Mutex // one read of the files at a time
	readAt   time.Time  // last read
	forcedAt time.Time  // last read a refusal asked for
	state    atomic.Pointer[clusterState]
}

// clusterState is what the files held at their last good read.
type clusterState struct {
	token string
	ca    []byte
	rt    *http.Transport // trusts ca alone
}

// load reads both files; the first read must succeed.
func (t *clusterTransport) load() error {
	_, err := t.reread(false)
	return err
}

// reread reads the files again when due (forced: a refusal asks for it)
// and reports whether what they hold changed. A file that cannot be read,
// or holds nothing usable, leaves the last good state in place; its error
// is returned.
func (t *clusterTransport) reread(forced bool) (changed bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	old := t.state.Load()
	switch {
	case old == nil:
	case forced && now.Sub(t.forcedAt) >= t.retry:
		t.forcedAt = now
	case !forced && now.Sub(t.readAt) >= t.every:
	default:
		return false, nil
	}
	t.readAt = now
	token, err := readFile(t.tokenFile)
	if err == nil {
		token = bytes.TrimSpace(token)
		if len(token) == 0 {
			err = fmt.Errorf("kubernetes: %s is empty", t.tokenFile)
		}
	}
	if err != nil {
		return false, err
	}
	ca, err := readFile(t.caFile)
	if err != nil {
		return false, err
	}
	next := &clusterState{token: string(token), ca: ca}
	if old != nil && bytes.Equal(old.ca, ca) {
		next.rt = old.rt
	} else {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(ca) {
			return false, fmt.Errorf("kubernetes: %s holds no PEM certificate", t.caFile)
		}
		next.rt = newTransport(pool)
	}
	if old != nil && old.token == next.token && old.rt == next.rt {
		return false, nil
	}
	t.state.Store(next)
	if old != nil && old.rt != next.rt {
		old.rt.CloseIdleConnections()
	}
	return true, nil
}

func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxFileBytes+1))
	if err == nil && len(b) > maxFileBytes {
		err = errors.New("larger than 1 MiB")
	}
	if err != nil {
		return nil, fmt.Errorf("kubernetes: %s: %w", path, err)
	}
	return b, nil
}

// newTransport talks TLS to the API server trusting roots alone, with the
// bounds bouncer puts on every fetch.
func newTransport(roots *x509.CertPool) *http.Transport {
	return &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  10 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
		IdleConnTimeout:        90 * time.Second,
		ForceAttemptHTTP2:      true,
	}
}

var errOtherOrigin = errors.New("kubernetes: the pod's token is sent to the API server only")

// RoundTrip sends a key fetch to the API server. A fetch of the JWKS is
// preceded by one of the discovery document, which must name the issuer.
func (t *clusterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != t.origin.Scheme || req.URL.Host != t.origin.Host {
		return nil, errOtherOrigin
	}
	if req.URL.Path == jwksPath {
		if err := t.confirmIssuer(req.Context()); err != nil {
			return nil, err
		}
	}
	return t.send(req)
}

// send sends req with the pod's token, reading the files again first
// when due, and once more, and retrying once, when the answer says they
// may have rotated: 401 (the token), or a certificate of an unknown
// authority (the CA).
func (t *clusterTransport) send(req *http.Request) (*http.Response, error) {
	rereadErr := func() error { _, err := t.reread(false); return err }()
	resp, err := t.sendWith(req, t.state.Load())
	if !stale(resp, err) {
		return resp, err
	}
	changed, rerr := t.reread(true)
	if !changed {
		if rerr == nil {
			rerr = rereadErr
		}
		if err != nil && rerr != nil {
			err = fmt.Errorf("%w (and reading the pod's files again: %v)", err, rerr)
		}
		return resp, err
	}
	if resp != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
	}
	return t.sendWith(req, t.state.Load())
}

func (t *clusterTransport) sendWith(req *http.Request, s *clusterState) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+s.token)
	return s.rt.RoundTrip(r)
}

// stale reports an answer that rotated files may explain.
func stale(resp *http.Response, err error) bool {
	if err != nil {
		var unknown x509.UnknownAuthorityError
		var verify *tls.CertificateVerificationError
		return errors.As(err, &unknown) || errors.As(err, &verify)
	}
	return resp.StatusCode == http.StatusUnauthorized
}

// confirmIssuer reads the API server's discovery document, which must
// name the issuer the Verifier checks tokens against.
func (t *clusterTransport) confirmIssuer(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.origin.String()+discoveryPath, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := t.send(req)
	if err != nil {
		return fmt.Errorf("kubernetes: discovery: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("kubernetes: discovery: GET %s: HTTP %d", req.URL.Redacted(), resp.StatusCode)
	}
	var md struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxFileBytes)).Decode(&md); err != nil {
		return fmt.Errorf("kubernetes: discovery: %w", err)
	}
	if md.Issuer != t.issuer {
		return fmt.Errorf("kubernetes: discovery: the API server names the issuer %q, not %q", md.Issuer, t.issuer)
	}
	return nil
}
