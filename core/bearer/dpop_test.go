package bearer_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

const publicURL = "https://api.example.com"

// dpopRig is an issuer, a verifier with DPoP on, and a client key.
type dpopRig struct {
	iss *bearertest.Issuer
	v   *bearer.Verifier
	key *bearertest.Key
	tok string // bound to key
}

func newDPoPRig(t *testing.T, edit ...func(*bearer.DPoP)) *dpopRig {
	t.Helper()
	iss := newIssuer(t)
	cfg := &bearer.DPoP{PublicURL: publicURL}
	for _, e := range edit {
		e(cfg)
	}
	v := newVerifier(t, iss, func(c *bearer.Config) { c.DPoP = cfg })
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, map[string]any{"scope": "country.read", "cnf": map[string]any{"jkt": key.Thumbprint()}})
	return &dpopRig{iss, v, key, tok}
}

// request is GET publicURL+path with the DPoP scheme and the given proofs.
func dpopRequest(path, token string, proofs ...string) fakeRequest {
	h := http.Header{"Authorization": {"DPoP " + token}}
	for _, p := range proofs {
		h.Add("DPoP", p)
	}
	return fakeRequest{path: path, header: h}
}

func (r *dpopRig) proof(t *testing.T, opts ...bearertest.ProofOption) string {
	t.Helper()
	p, err := r.key.DPoPProof(http.MethodGet, publicURL+"/country/code/AUS", r.tok, "", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDPoPAccepted(t *testing.T) {
	r := newDPoPRig(t)
	c, err := r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, r.proof(t)), bearer.RequireScope("country.read"))
	if err != nil || c.ClientID == "" {
		t.Fatalf("%v %v", c, err)
	}
	// Cached or not, every request needs its own proof.
	_, err = r.v.Check(bg, withAuth("DPoP "+r.tok))
	wantRefusal(t, err, bearer.ErrDPoPProof, 401)
	// htu is compared normalised: scheme, host and default port.
	p, _ := r.key.DPoPProof(http.MethodGet, "HTTPS://API.Example.COM:443/country/code/AUS", r.tok, "")
	if _, err := r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, p)); err != nil {
		t.Fatalf("normalised htu: %v", err)
	}
}

// Every check of RFC 9449 §4.3, each refused on its own.
func TestDPoPProofChecks(t *testing.T) {
	r := newDPoPRig(t)
	other, _ := bearertest.NewKey("ES256")
	otherProof, _ := other.DPoPProof(http.MethodGet, publicURL+"/country/code/AUS", r.tok, "")
	hmacKey := base64.RawURLEncoding.EncodeToString([]byte("secret"))
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	privJWK := r.key.PublicJWK()
	privJWK["d"] = base64.RawURLEncoding.EncodeToString(priv.D.Bytes())
	now := time.Now()
	replayed := r.proof(t)
	if _, err := r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, replayed)); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		proofs []string
		path   string
		want   error
	}{
		"no DPoP header":         {nil, "", bearer.ErrDPoPProof},
		"two DPoP headers":       {[]string{r.proof(t), r.proof(t)}, "", bearer.ErrDPoPProof},
		"proof too large":        {[]string{r.proof(t, bearertest.WithProofClaim("pad", strings.Repeat("x", 9<<10)))}, "", bearer.ErrDPoPProof},
		"not a JWS":              {[]string{"not.a.jws.at.all"}, "", bearer.ErrDPoPProof},
		"typ not dpop+jwt":       {[]string{r.proof(t, bearertest.WithProofHeader("typ", "JWT"))}, "", bearer.ErrDPoPProof},
		"alg none":               {[]string{r.proof(t, bearertest.WithProofHeader("alg", "none"))}, "", bearer.ErrDPoPProof},
		"alg HS256":              {[]string{r.proof(t, bearertest.WithProofHeader("alg", "HS256"))}, "", bearer.ErrDPoPProof},
		"no jwk":                 {[]string{r.proof(t, bearertest.WithProofHeader("jwk", nil))}, "", bearer.ErrDPoPProof},
		"symmetric jwk":          {[]string{r.proof(t, bearertest.WithProofHeader("jwk", map[string]any{"kty": "oct", "k": hmacKey}))}, "", bearer.ErrDPoPProof},
		"private jwk":            {[]string{r.proof(t, bearertest.WithProofHeader("jwk", privJWK))}, "", bearer.ErrDPoPProof},
		"jwk of another key":     {[]string{r.proof(t, bearertest.WithProofHeader("jwk", other.PublicJWK()))}, "", bearer.ErrDPoPProof},
		"htm of another method":  {[]string{r.proof(t, bearertest.WithProofClaim("htm", "POST"))}, "", bearer.ErrDPoPProof},
		"htu of another path":    {[]string{r.proof(t, bearertest.WithProofClaim("htu", publicURL+"/admin"))}, "", bearer.ErrDPoPProof},
		"htu of another host":    {[]string{r.proof(t, bearertest.WithProofClaim("htu", "https://evil.example.com/country/code/AUS"))}, "", bearer.ErrDPoPProof},
		"htu with another port":  {[]string{r.proof(t, bearertest.WithProofClaim("htu", publicURL+":8443/country/code/AUS"))}, "", bearer.ErrDPoPProof},
		"iat too old":            {[]string{r.proof(t, bearertest.WithProofClaim("iat", now.Add(-2*time.Minute).Unix()))}, "", bearer.ErrDPoPProof},
		"iat in the future":      {[]string{r.proof(t, bearertest.WithProofClaim("iat", now.Add(2*time.Minute).Unix()))}, "", bearer.ErrDPoPProof},
		"no iat":                 {[]string{r.proof(t, bearertest.WithProofClaim("iat", nil))}, "", bearer.ErrDPoPProof},
		"no jti":                 {[]string{r.proof(t, bearertest.WithProofClaim("jti", nil))}, "", bearer.ErrDPoPProof},
		"jti replayed":           {[]string{replayed}, "", bearer.ErrDPoPProof},
		"ath of another token":   {[]string{r.proof(t, bearertest.WithProofClaim("ath", "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo"))}, "", bearer.ErrDPoPProof},
		"no ath":                 {[]string{r.proof(t, bearertest.WithProofClaim("ath", nil))}, "", bearer.ErrDPoPProof},
		"proof of another key":   {[]string{otherProof}, "", bearer.ErrSenderConstrained},
		"proof for another path": {[]string{r.proof(t)}, "/country/code/NZL", bearer.ErrDPoPProof},
	} {
		t.Run(name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = "/country/code/AUS"
			}
			_, err := r.v.Check(bg, dpopRequest(path, r.tok, tc.proofs...))
			e := wantRefusal(t, err, tc.want, 401)
			resp := r.v.Response(err)
			ch := resp.Header.Values("WWW-Authenticate")
			if len(ch) != 2 || !strings.HasPrefix(ch[0], "DPoP error=") || !strings.Contains(ch[0], `algs="`) || ch[1] != `Bearer realm="country-api"` {
				t.Fatalf("challenges %q for %v", ch, e)
			}
		})
	}
}

// A bound token presented as Bearer is the downgrade RFC 9449 §7.2
// forbids; an unbound token presented with DPoP is refused too.
func TestDPoPBindingAndSchemes(t *testing.T) {
	r := newDPoPRig(t)
	_, err := r.v.Check(bg, withAuth("Bearer "+r.tok))
	e := wantRefusal(t, err, bearer.ErrSenderConstrained, 401)
	if !strings.Contains(e.Description, "cnf.jkt") {
		t.Fatalf("description %q", e.Description)
	}
	ch := r.v.Response(err).Header.Values("WWW-Authenticate")
	if len(ch) != 2 || !strings.HasPrefix(ch[0], `Bearer realm="country-api", error="invalid_token"`) || ch[1] != `DPoP algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA"` {
		t.Fatalf("challenges %q", ch)
	}
	unbound := r.iss.MustMint(t, nil)
	p, _ := r.key.DPoPProof(http.MethodGet, publicURL+"/", unbound, "")
	_, err = r.v.Check(bg, dpopRequest("/", unbound, p))
	wantRefusal(t, err, bearer.ErrSenderConstrained, 401)
	// Plain bearer tokens still work in the default mode.
	if _, err := r.v.Check(bg, withAuth("Bearer "+unbound)); err != nil {
		t.Fatal(err)
	}
	// Verify, without a request, cannot see a proof: a bound token is
	// refused.
	wantRefusal(t, verifyErr(r.v, r.tok), bearer.ErrSenderConstrained, 401)
	// No credentials: both schemes are offered.
	_, err = r.v.Check(bg, withAuth())
	if ch := r.v.Response(err).Header.Values("WWW-Authenticate"); len(ch) != 2 || ch[0] != `Bearer realm="country-api"` || !strings.HasPrefix(ch[1], "DPoP algs=") {
		t.Fatalf("challenges %q", ch)
	}
	// A policy's refusal of a DPoP request is a DPoP challenge.
	_, err = r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, r.proof(t)), bearer.RequireScope("admin"))
	wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
	if ch := r.v.Response(err).Header.Values("WWW-Authenticate"); !strings.HasPrefix(ch[0], `DPoP error="insufficient_scope"`) {
		t.Fatalf("403 challenges %q", ch)
	}
}

func TestDPoPModes(t *testing.T) {
	required := newDPoPRig(t, func(d *bearer.DPoP) { d.Mode = bearer.DPoPRequired })
	_, err := required.v.Check(bg, withAuth("Bearer "+required.iss.MustMint(t, nil)))
	wantRefusal(t, err, bearer.ErrSenderConstrained, 401)
	if ch := required.v.Response(err).Header.Values("WWW-Authenticate"); len(ch) != 1 || !strings.HasPrefix(ch[0], `DPoP error="invalid_token"`) {
		t.Fatalf("required: challenges %q", ch)
	}
	if _, err := required.v.Check(bg, dpopRequest("/country/code/AUS", required.tok, required.proof(t))); err != nil {
		t.Fatal(err)
	}

	disabled := newDPoPRig(t, func(d *bearer.DPoP) { d.Mode = bearer.DPoPDisabled })
	_, err = disabled.v.Check(bg, dpopRequest("/country/code/AUS", disabled.tok, disabled.proof(t)))
	wantRefusal(t, err, bearer.ErrMissingToken, 401)
	_, err = disabled.v.Check(bg, withAuth("Bearer "+disabled.tok))
	e := wantRefusal(t, err, bearer.ErrSenderConstrained, 401)
	if !strings.Contains(e.Description, "DPoP") {
		t.Fatalf("disabled: %q", e.Description)
	}
	if _, err := bearer.New(bearer.Config{Issuer: disabled.iss.URL(), Audiences: []string{"a"}, DPoP: &bearer.DPoP{}}); err == nil {
		t.Fatal("DPoP without a public URL was accepted")
	}
}

// Server nonces: a proof without the current one gets use_dpop_nonce and
// the nonce to retry with; an accepted request is told the next one.
func TestDPoPNonces(t *testing.T) {
	secret := make([]byte, 32)
	r := newDPoPRig(t, func(d *bearer.DPoP) { d.NonceSecret = secret })
	_, err := r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, r.proof(t)))
	wantRefusal(t, err, bearer.ErrDPoPNonce, 401)
	resp := r.v.Response(err)
	nonce := resp.Header.Get("DPoP-Nonce")
	if nonce == "" || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), `DPoP error="use_dpop_nonce"`) {
		t.Fatalf("answer %v", resp.Header)
	}
	p, _ := r.key.DPoPProof(http.MethodGet, publicURL+"/country/code/AUS", r.tok, nonce)
	if _, err := r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, p)); err != nil {
		t.Fatalf("with the nonce: %v", err)
	}
	if r.v.AcceptHeader().Get("DPoP-Nonce") != nonce {
		t.Fatal("the next nonce is not offered")
	}
	p, _ = r.key.DPoPProof(http.MethodGet, publicURL+"/country/code/AUS", r.tok, "forged")
	_, err = r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, p))
	wantRefusal(t, err, bearer.ErrDPoPNonce, 401)
}

type brokenStore struct{}

func (brokenStore) Remember(context.Context, string, time.Duration) (bool, error) {
	return false, errors.New("connection refused")
}

// A replay store that cannot answer refuses DPoP requests with 503 rather
// than let a possible replay through.
func TestDPoPReplayStoreOutage(t *testing.T) {
	r := newDPoPRig(t, func(d *bearer.DPoP) { d.Replay = brokenStore{} })
	_, err := r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, r.proof(t)))
	wantRefusal(t, err, bearer.ErrReplayStoreUnavailable, 503)
	if r.v.Response(err).Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
}

func TestDPoPBehindAProxy(t *testing.T) {
	r := newDPoPRig(t, func(d *bearer.DPoP) { d.PublicURL, d.TrustForwardedHeaders = "", true })
	p, _ := r.key.DPoPProof(http.MethodGet, "https://edge.example.com/v1/country", r.tok, "")
	req := dpopRequest("/v1/country", r.tok, p)
	req.header.Set("X-Forwarded-Proto", "https")
	req.header.Set("X-Forwarded-Host", "edge.example.com")
	if _, err := r.v.Check(bg, req); err != nil {
		t.Fatal(err)
	}
}

// Certificate-bound tokens (RFC 8705): accepted only over a connection
// (or from a proxy's header) with the certificate they name.
func TestMTLSBoundTokens(t *testing.T) {
	iss := newIssuer(t)
	cert, certPEM := selfSigned(t)
	other, _ := selfSigned(t)
	sum := sha256.Sum256(cert.Raw)
	tok := iss.MustMint(t, map[string]any{"cnf": map[string]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])}})
	v := newVerifier(t, iss)
	req := func(c *x509.Certificate) fakeRequest {
		r := withAuth("Bearer " + tok)
		r.cert = c
		return r
	}
	if _, err := v.Check(bg, req(cert)); err != nil {
		t.Fatalf("matching certificate: %v", err)
	}
	for name, c := range map[string]*x509.Certificate{"no certificate": nil, "another certificate": other} {
		_, err := v.Check(bg, req(c))
		e := wantRefusal(t, err, bearer.ErrSenderConstrained, 401)
		if !strings.Contains(e.Description, "x5t#S256") {
			t.Errorf("%s: %q", name, e.Description)
		}
	}
	proxied := newVerifier(t, iss, func(c *bearer.Config) { c.ClientCertHeader = "X-Client-Cert" })
	r := withAuth("Bearer " + tok)
	r.header.Set("X-Client-Cert", url.QueryEscape(string(certPEM)))
	if _, err := proxied.Check(bg, r); err != nil {
		t.Fatalf("forwarded certificate: %v", err)
	}
	r.cert = cert // the connection's certificate is the proxy's, not the client's
	r.header.Del("X-Client-Cert")
	_, err := proxied.Check(bg, r)
	wantRefusal(t, err, bearer.ErrSenderConstrained, 401)
}

func selfSigned(t *testing.T) (*x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
