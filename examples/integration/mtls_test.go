package integration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"io"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
)

// Tokens bound to a TLS client certificate (RFC 8705), against every
// framework served over TLS: accepted on a connection with that
// certificate, refused on one with another or none. Each adapter hands
// the connection's certificate to package bearer.
func TestCertificateBoundTokens(t *testing.T) {
	iss := newIssuer(t)
	ca := newCA(t)
	serverCert := ca.issue(t, "127.0.0.1", true)
	clientCert, otherCert := ca.issue(t, "country-client", false), ca.issue(t, "someone-else", false)
	sum := sha256.Sum256(clientCert.Leaf.Raw)
	bound := iss.MustMint(t, map[string]any{"scope": "country.read", "cnf": map[string]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])}})

	cfg := trusting(iss)
	bases := make([]string, len(examples))
	for i, ex := range examples {
		l := tls.NewListener(listen(t), &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS12})
		exampletest.StartOn(t, ex.run, cfg, l)
		bases[i] = "https://" + l.Addr().String()
	}
	client := func(cert *tls.Certificate) *http.Client {
		tc := &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12}
		if cert != nil {
			tc.Certificates = []tls.Certificate{*cert}
		}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: tc}}
	}
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			for _, tc := range []struct {
				name   string
				cert   *tls.Certificate
				status int
			}{
				{"the bound certificate", &clientCert, http.StatusOK},
				{"another certificate", &otherCert, http.StatusUnauthorized},
				{"no certificate", nil, http.StatusUnauthorized},
			} {
				req, _ := http.NewRequest(http.MethodGet, bases[i]+"/country/code/AUS", nil)
				req.Header.Set("Authorization", "Bearer "+bound)
				resp, err := client(tc.cert).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.status {
					t.Errorf("%s: %d %s", tc.name, resp.StatusCode, body)
				}
			}
		})
	}
}

// testCA issues the TLS certificates of a test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert, key, pool}
}

func (ca *testCA) issue(t *testing.T, name string, server bool) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.IPAddresses = []net.IP{net.ParseIP(name)}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}
