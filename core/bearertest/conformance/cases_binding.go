package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// PublicURL is the URL the DPoP suites' verifiers are configured with:
// proofs name it, whatever loopback address the server under test has.
const PublicURL = "https://conformance.example"

// ClientCertHeader is where the certificate-bound suite's verifier reads
// the client certificate a TLS-terminating proxy forwards.
const ClientCertHeader = "X-Client-Cert"

var nonceSecret = []byte("conformance nonce secret, 32 bytes or more")

// dpopClient is a client's DPoP key and a token bound to it.
type dpopClient struct {
	key *bearertest.Key
	tok string
}

func newDPoPClient(t *testing.T, iss *bearertest.Issuer, scope string) dpopClient {
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, map[string]any{"scope": scope, "client_id": "conformance-client", "cnf": map[string]any{"jkt": key.Thumbprint()}})
	return dpopClient{key, tok}
}

// header is a DPoP request's headers for route, as tr carries it, with a
// proof (opts change it; nonce "" for none).
func (c dpopClient) header(t *testing.T, tr transport, route, nonce string, opts ...bearertest.ProofOption) http.Header {
	proof, err := c.key.DPoPProof(tr.method, PublicURL+tr.path(route), c.tok, nonce, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return http.Header{"Authorization": {"DPoP " + c.tok}, "Dpop": {proof}}
}

func dpopCases(tr transport) func(*testing.T, *bearertest.Issuer) []testCase {
	return func(t *testing.T, iss *bearertest.Issuer) []testCase { return dpopCasesFor(t, iss, tr) }
}

func dpopCasesFor(t *testing.T, iss *bearertest.Issuer, tr transport) []testCase {
	c := newDPoPClient(t, iss, Scope)
	weak := newDPoPClient(t, iss, "customer.read")
	unbound := iss.MustMint(t, map[string]any{"scope": Scope, "client_id": "conformance-client"})
	noProof := http.Header{"Authorization": {"DPoP " + c.tok}}
	unboundWithProof := c.header(t, tr, PathScoped, "")
	unboundWithProof.Set("Authorization", "DPoP "+unbound)
	return []testCase{
		{name: "DPoP proof", path: PathScoped, header: c.header(t, tr, PathScoped, ""), status: 200},
		{name: "DPoP proof, authenticated route", path: PathAuthenticated, header: c.header(t, tr, PathAuthenticated, ""), status: 200},
		{name: "plain bearer token still accepted", path: PathScoped, header: bearerHeader(unbound), status: 200},
		{name: "bound token as Bearer", path: PathScoped, header: bearerHeader(c.tok), status: 401},
		{name: "no proof", path: PathScoped, header: noProof, status: 401},
		{name: "replayed proof", path: PathScoped, header: c.header(t, tr, PathScoped, ""), repeat: true, status: 401},
		{name: "proof for another path", path: PathScoped, header: c.header(t, tr, PathPolicy, ""), status: 401},
		{name: "proof for another method", path: PathScoped, header: c.header(t, tr.otherMethod(), PathScoped, ""), status: 401},
		{name: "proof too old", path: PathScoped, header: c.header(t, tr, PathScoped, "", bearertest.WithProofClaim("iat", time.Now().Add(-time.Hour).Unix())), status: 401},
		{name: "unbound token with the DPoP scheme", path: PathScoped, header: unboundWithProof, status: 401},
		{name: "no token", path: PathScoped, status: 401},
		{name: "DPoP token without the scope", path: PathScoped, header: weak.header(t, tr, PathScoped, ""), status: 403},
		{name: "optional route, no token", path: PathOptional, status: 200},
	}
}

func dpopNonceCases(tr transport, now func() time.Time) func(*testing.T, *bearertest.Issuer) []testCase {
	return func(t *testing.T, iss *bearertest.Issuer) []testCase { return dpopNonceCasesFor(t, iss, tr, now) }
}

func dpopNonceCasesFor(t *testing.T, iss *bearertest.Issuer, tr transport, now func() time.Time) []testCase {
	c := newDPoPClient(t, iss, Scope)
	// The nonce servers hand out now; the verifiers under test and the
	// reference derive it from the same secret.
	probe := newVerifierNonce(t, iss, now)
	return []testCase{
		{name: "proof without a nonce", path: PathScoped, header: c.header(t, tr, PathScoped, ""), status: 401},
		{name: "proof with the nonce", path: PathScoped, header: c.header(t, tr, PathScoped, probe), status: 200},
		{name: "Bearer when DPoP is required", path: PathScoped, header: bearerHeader(iss.MustMint(t, map[string]any{"scope": Scope})), status: 401},
		{name: "no token", path: PathScoped, status: 401},
	}
}

func mtlsCases(t *testing.T, iss *bearertest.Issuer) []testCase {
	cert, certPEM := clientCertificate(t)
	_, otherPEM := clientCertificate(t)
	sum := sha256.Sum256(cert.Raw)
	tok := iss.MustMint(t, map[string]any{"scope": Scope, "client_id": "conformance-client", "cnf": map[string]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])}})
	with := func(pemBytes []byte) http.Header {
		h := bearerHeader(tok)
		if pemBytes != nil {
			h.Set(ClientCertHeader, url.QueryEscape(string(pemBytes)))
		}
		return h
	}
	return []testCase{
		{name: "the certificate the token is bound to", path: PathScoped, header: with(certPEM), status: 200},
		{name: "another certificate", path: PathScoped, header: with(otherPEM), status: 401},
		{name: "no certificate", path: PathScoped, header: with(nil), status: 401},
	}
}

func clientCertificate(t *testing.T) (*x509.Certificate, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "conformance-client"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// newVerifierNonce is the DPoP nonce a verifier with nonceSecret hands
// out at now.
func newVerifierNonce(t *testing.T, iss *bearertest.Issuer, now func() time.Time) string {
	v := newVerifier(t, iss.URL(), func(c *bearer.Config) {
		c.DPoP = &bearer.DPoP{PublicURL: PublicURL, NonceSecret: nonceSecret}
		c.Now = now
	})
	return v.AcceptHeader().Get("DPoP-Nonce")
}
