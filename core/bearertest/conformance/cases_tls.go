package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// skipHTTPOverTLS is why Run skips the cases whose client certificate
// comes from the TLS connection.
const skipHTTPOverTLS = "the test gave Run no ServeTLS: without TLS no client certificate can come from the connection"

// mtlsConnectionCases run against a verifier that reads the client
// certificate from the TLS connection alone (no ClientCertHeader, as when
// the API terminates TLS itself): the token must be bound to the
// certificate the client authenticated the connection with, and a
// certificate in a header is not one.
func mtlsConnectionCases(t *testing.T, iss *bearertest.Issuer) []testCase {
	cert, other := clientKeyPair(t), clientKeyPair(t)
	sum := sha256.Sum256(cert.Leaf.Raw)
	tok := iss.MustMint(t, map[string]any{"scope": Scope, "client_id": "conformance-client", "cnf": map[string]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])}})
	unbound := iss.MustMint(t, map[string]any{"scope": Scope, "client_id": "conformance-client"})
	inHeader := bearerHeader(tok)
	inHeader.Set(ClientCertHeader, url.QueryEscape(string(pemOf(cert.Leaf))))
	return []testCase{
		{name: "the certificate the token is bound to", path: PathScoped, header: bearerHeader(tok), overTLS: true, cert: cert, status: 200},
		{name: "the bound certificate, authenticated route", path: PathAuthenticated, header: bearerHeader(tok), overTLS: true, cert: cert, status: 200},
		{name: "another certificate", path: PathScoped, header: bearerHeader(tok), overTLS: true, cert: other, status: 401},
		{name: "no certificate", path: PathScoped, header: bearerHeader(tok), overTLS: true, status: 401},
		{name: "the bound certificate in a header only", path: PathScoped, header: inHeader, overTLS: true, status: 401},
		{name: "unbound token with a certificate", path: PathScoped, header: bearerHeader(unbound), overTLS: true, cert: cert, status: 200},
	}
}

// clientKeyPair is a self-signed client certificate and its key, as RFC
// 8705 §2.2 lets a client use.
func clientKeyPair(t *testing.T) *tls.Certificate {
	t.Helper()
	return keyPair(t, &x509.Certificate{Subject: pkix.Name{CommonName: "conformance-client"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

func keyPair(t *testing.T, tmpl *x509.Certificate) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = serial, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// tlsPair is a server's TLS configuration for the loopback address, which
// asks clients for a certificate without checking it (the token's binding
// is the check), and the pool a client trusts it with.
func tlsPair(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	cert := keyPair(t, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "conformance server"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	return &tls.Config{Certificates: []tls.Certificate{*cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12}, roots
}

// clientTLS is the configuration of a client that trusts roots and
// presents cert, or no certificate when cert is nil.
func clientTLS(roots *x509.CertPool, cert *tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	return c
}

func pemOf(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
