package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// envoyClient serves g's Authorization service over a real gRPC
// connection on loopback and returns Envoy's client for it.
func envoyClient(t *testing.T, g *Gateway) authv3.AuthorizationClient {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gs := grpc.NewServer()
	authv3.RegisterAuthorizationServer(gs, authorizationServer{current: func() (*Gateway, func()) { return g, func() {} }})
	go gs.Serve(ln)
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return authv3.NewAuthorizationClient(conn)
}

// checkRequest is what Envoy sends for a request (headers lower-cased,
// the path with its query).
func checkRequest(method, host, path string, headers map[string]string) *authv3.CheckRequest {
	h := map[string]string{":authority": host, ":method": method, ":path": path}
	for k, v := range headers {
		h[strings.ToLower(k)] = v
	}
	return &authv3.CheckRequest{Attributes: &authv3.AttributeContext{Request: &authv3.AttributeContext_Request{
		Http: &authv3.AttributeContext_HttpRequest{Method: method, Host: host, Path: path, Scheme: "https", Headers: h},
	}}}
}

func okHeaders(ok *authv3.OkHttpResponse) map[string]string {
	out := map[string]string{}
	for _, h := range ok.GetHeaders() {
		if h.GetAppendAction() != corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD {
			out[h.GetHeader().GetKey()] = "APPENDED: " + h.GetHeader().GetValue()
			continue
		}
		out[h.GetHeader().GetKey()] = h.GetHeader().GetValue()
	}
	return out
}

func TestEnvoyGRPCAccepts(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig, iss)
	client := envoyClient(t, g)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read", "client_id": "billing", "sub": "billing-sa"})
	resp, err := client.Check(context.Background(), checkRequest("GET", "api.example.com", "/orders/7?x=1", map[string]string{"authorization": "Bearer " + tok, "x-auth-client-id": "root"}))
	if err != nil {
		t.Fatal(err)
	}
	if codes.Code(resp.GetStatus().GetCode()) != codes.OK || resp.GetOkResponse() == nil {
		t.Fatalf("refused: %v", resp)
	}
	got := okHeaders(resp.GetOkResponse())
	want := map[string]string{"x-auth-client-id": "billing", "x-auth-subject": "billing-sa", "x-auth-scopes": "orders.read", "x-auth-issuer": iss.URL()}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q; want %q (overwriting what the client sent)", k, got[k], v)
		}
	}
	// Headers it does not set are removed: a client's X-Auth-Roles would
	// otherwise reach the upstream.
	g2 := newGateway(t, ordersConfig+"upstream-headers:\n  roles: X-Auth-Roles\n", iss)
	resp, err = envoyClient(t, g2).Check(context.Background(), checkRequest("GET", "api.example.com", "/orders/7", map[string]string{"authorization": "Bearer " + tok, "x-auth-roles": "admin"}))
	if err != nil {
		t.Fatal(err)
	}
	if rm := resp.GetOkResponse().GetHeadersToRemove(); !slices.Contains(rm, "x-auth-roles") {
		t.Fatalf("headers_to_remove = %q; want x-auth-roles", rm)
	}
	// A skipped route removes every claim header.
	resp, _ = client.Check(context.Background(), checkRequest("GET", "api.example.com", "/health", map[string]string{"x-auth-client-id": "root"}))
	if rm := resp.GetOkResponse().GetHeadersToRemove(); !slices.Contains(rm, "x-auth-client-id") || len(resp.GetOkResponse().GetHeaders()) != 0 {
		t.Fatalf("skipped route: %v", resp.GetOkResponse())
	}
}

func TestEnvoyGRPCRefusesAsTheMiddlewareDoes(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig, iss)
	client := envoyClient(t, g)
	weak := iss.MustMint(t, map[string]any{"scope": "orders.write"})
	for _, tc := range []struct {
		name string
		h    map[string]string
		code codes.Code
	}{
		{"no token", nil, codes.Unauthenticated},
		{"missing scope", map[string]string{"authorization": "Bearer " + weak}, codes.PermissionDenied},
		{"bad token", map[string]string{"authorization": "Bearer garbage"}, codes.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.Check(context.Background(), checkRequest("GET", "api.example.com", "/orders/7", tc.h))
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			for k, v := range tc.h {
				h.Set(k, v)
			}
			want := reference(t, g.checker, plain{"GET", "/orders/7", h}, compilePolicy(Policy{Scopes: []string{"orders.read"}}))
			d := resp.GetDeniedResponse()
			if codes.Code(resp.GetStatus().GetCode()) != tc.code || int(d.GetStatus().GetCode()) != want.Status || d.GetBody() != string(want.Body) {
				t.Fatalf("got %v %d %s; want %v %d %s", codes.Code(resp.GetStatus().GetCode()), d.GetStatus().GetCode(), d.GetBody(), tc.code, want.Status, want.Body)
			}
			got := http.Header{}
			for _, o := range d.GetHeaders() {
				got.Add(o.GetHeader().GetKey(), o.GetHeader().GetValue())
			}
			for name, values := range want.Header {
				if !slices.Equal(got.Values(name), values) {
					t.Errorf("%s = %q; want %q", name, got.Values(name), values)
				}
			}
		})
	}
	// An issuer outage is a denial with 503, never an error_response that
	// failure_mode_allow would let through.
	// (A gateway that holds no keys yet: held keys outlive an outage.)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	iss.SetDown(true)
	resp, err := envoyClient(t, newGateway(t, ordersConfig, iss)).Check(context.Background(), checkRequest("GET", "api.example.com", "/orders/7", map[string]string{"authorization": "Bearer " + tok}))
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetDeniedResponse().GetStatus().GetCode() != 503 || codes.Code(resp.GetStatus().GetCode()) != codes.Unavailable {
		t.Fatalf("outage: %v", resp)
	}
}

func TestEnvoyGRPCTrustsConfiguredProxiesOnly(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig+"trusted-proxies: [192.0.2.1]\n", iss)
	_, err := envoyClient(t, g).Check(context.Background(), checkRequest("GET", "api.example.com", "/health", nil))
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("err = %v; want PermissionDenied", err)
	}
}

// Repeated headers arrive apart in header_map (encode_raw_headers): two
// Authorization headers are the middleware's 400.
func TestEnvoyGRPCRawHeaders(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig, iss)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	req := checkRequest("GET", "api.example.com", "/orders/7", nil)
	hr := req.Attributes.Request.Http
	hr.Headers = nil
	hr.HeaderMap = &corev3.HeaderMap{Headers: []*corev3.HeaderValue{
		{Key: "authorization", RawValue: []byte("Bearer " + tok)},
		{Key: "authorization", RawValue: []byte("Bearer " + tok)},
	}}
	resp, err := envoyClient(t, g).Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	want := reference(t, g.checker, plain{"GET", "/orders/7", http.Header{"Authorization": {"Bearer " + tok, "Bearer " + tok}}})
	if d := resp.GetDeniedResponse(); int(d.GetStatus().GetCode()) != 400 || d.GetBody() != string(want.Body) {
		t.Fatalf("two Authorization headers: %v", resp)
	}
}

// A certificate-bound token (RFC 8705) through Envoy: the certificate in
// the check's source (Envoy's own TLS peer), or its XFCC header.
func TestEnvoyGRPCCertificateBound(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig+"mtls:\n  source: xfcc\n", iss)
	client := envoyClient(t, g)
	cert, certPEM := testCertificate(t)
	_, otherPEM := testCertificate(t)
	sum := sha256.Sum256(cert.Raw)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read", "cnf": map[string]any{"x5t#S256": base64.RawURLEncoding.EncodeToString(sum[:])}})
	auth := map[string]string{"authorization": "Bearer " + tok}
	xfcc := func(pemBytes []byte, extra string) map[string]string {
		return map[string]string{"authorization": "Bearer " + tok, "x-forwarded-client-cert": "By=spiffe://example/api;Hash=" + hex.EncodeToString(sha256Of(pemBytes)) + `;Subject="CN=client,O=Example";Cert="` + url.QueryEscape(string(pemBytes)) + `"` + extra}
	}
	for _, tc := range []struct {
		name    string
		h       map[string]string
		source  []byte
		allowed bool
	}{
		{"certificate in the check's source", auth, certPEM, true},
		{"another certificate in the source", auth, otherPEM, false},
		{"certificate in XFCC", xfcc(certPEM, ""), nil, true},
		{"another certificate in XFCC", xfcc(otherPEM, ""), nil, false},
		{"two XFCC elements", xfcc(certPEM, ",By=spiffe://other;Cert=x"), nil, false},
		{"no certificate", auth, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := checkRequest("GET", "api.example.com", "/orders/7", tc.h)
			if tc.source != nil {
				req.Attributes.Source = &authv3.AttributeContext_Peer{Certificate: url.QueryEscape(string(tc.source))}
			}
			resp, err := client.Check(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.GetOkResponse() != nil; got != tc.allowed {
				t.Fatalf("allowed = %v; want %v (%v)", got, tc.allowed, resp.GetDeniedResponse().GetBody())
			}
		})
	}
}

func sha256Of(pemBytes []byte) []byte {
	b, _ := pem.Decode(pemBytes)
	s := sha256.Sum256(b.Bytes)
	return s[:]
}

func testCertificate(t testing.TB) (*x509.Certificate, []byte) {
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

// Envoy's HTTP mode: the original method and path behind the prefix.
func TestEnvoyHTTP(t *testing.T) {
	iss := newIssuer(t)
	g := newGateway(t, ordersConfig+"upstream-headers:\n  roles: X-Auth-Roles\n", iss)
	srv := httptest.NewServer(g.envoyHTTP("/envoy"))
	t.Cleanup(srv.Close)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read", "client_id": "billing"})
	do := func(method, path string, h http.Header) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+"/envoy"+path, nil)
		req.Host = "api.example.com"
		req.Header = h
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := do("GET", "/orders/7", http.Header{"Authorization": {"Bearer " + tok}})
	if resp.StatusCode != 200 || resp.Header.Get("X-Auth-Client-Id") != "billing" || resp.Header.Get("X-Envoy-Auth-Headers-To-Remove") != "x-auth-roles" {
		t.Fatalf("accepted: %d %v", resp.StatusCode, resp.Header)
	}
	if resp := do("POST", "/orders/7", http.Header{"Authorization": {"Bearer " + tok}}); resp.StatusCode != 403 {
		t.Fatalf("a method no route allows: %d", resp.StatusCode)
	}
	if resp := do("GET", "/orders/7", nil); resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d %v", resp.StatusCode, resp.Header)
	}
}

func hexSHA256(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
