package bearergrpc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

// clientTokens is the token source of a service that gets its tokens from
// iss with the client-credentials grant.
func clientTokens(t *testing.T, iss *bearertest.Issuer, id, secret string, scopes ...string) oauth2.TokenSource {
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: iss.TokenURL(), Scopes: scopes}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
	return cc.TokenSource(ctx)
}

func TestTokenSource(t *testing.T) {
	iss, v := setup(t)
	iss.AddClient("country-client", "s3cret", "country.read", "customer.read")
	iss.AddClient("limited-client", "limited", "customer.read")
	addr := serve(t, conformanceInterceptor(v))
	connAs := func(ts oauth2.TokenSource) *grpc.ClientConn {
		return dial(t, addr, plaintext, grpc.WithPerRPCCredentials(bearergrpc.TokenSource(ts, bearergrpc.WithInsecureTransport())))
	}

	conn := connAs(clientTokens(t, iss, "country-client", "s3cret", "country.read"))
	body, _, err := call(t.Context(), conn, methodFor[conformance.PathScoped])
	if want := `{"client_id":"country-client","scopes":["country.read"],"same":true}`; err != nil || string(body) != want {
		t.Fatalf("granted: %s, %v; want %s", body, err, want)
	}

	conn = connAs(clientTokens(t, iss, "limited-client", "limited", "customer.read"))
	if _, _, err := call(t.Context(), conn, methodFor[conformance.PathScoped]); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("without the scope: %v", err)
	}

	// The calls below fail in the client: the skipped method would let
	// them through.
	failsInClient := func(name string, ts oauth2.TokenSource, want codes.Code) {
		t.Helper()
		_, _, err := call(t.Context(), connAs(ts), methodFor[conformance.PathSkipped])
		if st := status.Convert(err); st.Code() != want || !strings.HasPrefix(st.Message(), "bearergrpc: ") {
			t.Errorf("%s: %v; want %v from bearergrpc", name, err, want)
		}
	}
	failsInClient("wrong secret", clientTokens(t, iss, "country-client", "wrong"), codes.Unauthenticated)
	failsInClient("DPoP token", oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "abc", TokenType: "DPoP"}), codes.Unauthenticated)
	iss.SetDown(true)
	failsInClient("issuer down", clientTokens(t, iss, "country-client", "s3cret"), codes.Unavailable)
}

// Without WithInsecureTransport the token is never sent in plaintext.
func TestTokenSourceRequiresTransportSecurity(t *testing.T) {
	creds := bearergrpc.TokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "abc"}))
	if !creds.RequireTransportSecurity() {
		t.Fatal("RequireTransportSecurity is false")
	}
	if _, err := grpc.NewClient("127.0.0.1:1", plaintext, grpc.WithPerRPCCredentials(creds)); err == nil {
		t.Fatal("a plaintext connection took credentials that require TLS")
	}
	if _, err := creds.GetRequestMetadata(context.Background()); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("metadata for a call of no known connection: %v", err)
	}
	md, err := bearergrpc.TokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "abc", TokenType: "bearer"}), bearergrpc.WithInsecureTransport()).
		GetRequestMetadata(context.Background())
	if err != nil || len(md) != 1 || md["authorization"] != "Bearer abc" {
		t.Fatalf("metadata %v, %v", md, err)
	}
}

// Over mutual TLS the credentials' defaults hold, and the client's
// certificate reaches the Checker, for tokens bound to it.
func TestTokenSourceOverMutualTLS(t *testing.T) {
	iss, v := setup(t)
	iss.AddClient("country-client", "s3cret", "country.read")
	serverCert, clientCert := selfSigned(t, "server"), selfSigned(t, "client")
	rec := &recorder{Checker: v}
	addr := serve(t, bearergrpc.New(rec), grpc.Creds(credentials.NewTLS(&tls.Config{
		Certificates: []tls.Certificate{serverCert},
		ClientAuth:   tls.RequireAnyClientCert,
		MinVersion:   tls.VersionTLS13,
	})))
	roots := x509.NewCertPool()
	roots.AddCert(serverCert.Leaf)
	conn := dial(t, addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{clientCert}, MinVersion: tls.VersionTLS13})),
		grpc.WithPerRPCCredentials(bearergrpc.TokenSource(clientTokens(t, iss, "country-client", "s3cret"))),
	)
	body, _, err := call(t.Context(), conn, methodFor[conformance.PathAuthenticated])
	if want := `{"client_id":"country-client","scopes":["country.read"],"same":true}`; err != nil || string(body) != want {
		t.Fatalf("call: %s, %v", body, err)
	}
	if got := rec.cert; got == nil || !got.Equal(clientCert.Leaf) {
		t.Fatalf("client certificate %v", got)
	}
}

// selfSigned makes a certificate for 127.0.0.1, good for a server and a
// client.
func selfSigned(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}
