package bearerconnect_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connectinprocess"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/bouncer-go/bouncer/adapters/bearerconnect"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

// setup starts an issuer and returns it with a verifier of its tokens for
// audience country-api.
func setup(t *testing.T) (*bearertest.Issuer, *bearer.Verifier) {
	t.Helper()
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return iss, v
}

// inProcess is a client of a server guarded by auth that serves every
// procedure of procedures as the test service's Authenticated does,
// through connectinprocess: no HTTP at all.
func inProcess(auth *bearerconnect.Interceptor, procedures ...string) *connect.Client {
	server := connect.NewServer(auth.Intercept)
	for _, p := range procedures {
		server.Register(connect.Method{Spec: unarySpec(p), Handler: func(ctx context.Context, _ connect.Spec, stream connect.ServerStream) error {
			if err := stream.Receive(new(emptypb.Empty)); err != nil {
				return err
			}
			return stream.Send(answer(ctx))
		}})
	}
	return connect.NewClient(connectinprocess.New(server))
}

func TestProcedurePolicies(t *testing.T) {
	iss, v := setup(t)
	auth := bearerconnect.New(v,
		bearerconnect.WithDefaultPolicies(bearer.RequireScope("country.read")),
		bearerconnect.WithProcedurePolicies(map[string][]bearer.Policy{
			"/country.v1.CountryService/ListCountries": nil,
			"/country.v1.CountryService/PutCountry":    {bearer.RequireScope("country.write")},
			"/admin.v1.Admin/":                         {bearer.RequireScope("admin")},
			"/admin.v1.Admin/Status":                   {bearer.RequireScope("admin.status")},
		}),
		bearerconnect.WithSkip("/grpc.health.v1.Health/", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
		bearerconnect.WithOptional("/country.v1.CountryService/Search"),
	)
	c := inProcess(auth,
		"/country.v1.CountryService/GetCountry", "/country.v1.CountryService/ListCountries",
		"/country.v1.CountryService/PutCountry", "/country.v1.CountryService/Search",
		"/other.v1.Other/Get", "/admin.v1.Admin/Restart", "/admin.v1.Admin/Status",
		"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
		"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
		"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
	)
	tok := func(scope string) string { return iss.MustMint(t, map[string]any{"scope": scope}) }
	read, write, admin := tok("country.read"), tok("country.write"), tok("admin")

	for _, tc := range []struct {
		name, procedure, token string
		want                   connect.Code
		claims                 bool
	}{
		{"default policy met", "/country.v1.CountryService/GetCountry", read, 0, true},
		{"default policy not met", "/country.v1.CountryService/GetCountry", write, connect.CodePermissionDenied, false},
		{"default for an unknown service", "/other.v1.Other/Get", write, connect.CodePermissionDenied, false},
		{"procedure without policies", "/country.v1.CountryService/ListCountries", write, 0, true},
		{"procedure without policies needs a token", "/country.v1.CountryService/ListCountries", "", connect.CodeUnauthenticated, false},
		{"procedure policy replaces the default", "/country.v1.CountryService/PutCountry", write, 0, true},
		{"procedure policy not met", "/country.v1.CountryService/PutCountry", read, connect.CodePermissionDenied, false},
		{"service policy", "/admin.v1.Admin/Restart", admin, 0, true},
		{"service policy not met", "/admin.v1.Admin/Restart", read, connect.CodePermissionDenied, false},
		{"procedure wins over its service", "/admin.v1.Admin/Status", admin, connect.CodePermissionDenied, false},
		{"skipped service", "/grpc.health.v1.Health/Check", "", 0, false},
		{"skipped service, bad token", "/grpc.health.v1.Health/Watch", "not-a-token", 0, false},
		{"skipped procedure", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "", 0, false},
		{"skip names no other procedure", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "", connect.CodeUnauthenticated, false},
		{"optional, no token", "/country.v1.CountryService/Search", "", 0, false},
		{"optional, token", "/country.v1.CountryService/Search", read, 0, true},
		{"optional, default policy still applies", "/country.v1.CountryService/Search", write, connect.CodePermissionDenied, false},
		{"optional, bad token", "/country.v1.CountryService/Search", "not-a-token", connect.CodeUnauthenticated, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, _, err := callWith(t.Context(), c, tc.procedure, bearerHeader(tc.token))
			if tc.want != 0 {
				if connect.CodeOf(err) != tc.want {
					t.Fatalf("err %v; want %v", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if claims := strings.Contains(string(body), `"same":true`); claims != tc.claims {
				t.Fatalf("the handler saw %s; want claims %v", body, tc.claims)
			}
		})
	}
}

func TestProcedurePoliciesAreCopied(t *testing.T) {
	iss, v := setup(t)
	m := map[string][]bearer.Policy{"/s.S/M": {bearer.RequireScope("country.read")}}
	auth := bearerconnect.New(v, bearerconnect.WithProcedurePolicies(m))
	m["/s.S/M"] = nil
	_, _, err := callWith(t.Context(), inProcess(auth, "/s.S/M"), "/s.S/M", bearerHeader(iss.MustMint(t, map[string]any{"scope": "other"})))
	if connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("%v: a change to the map after New changed the policies", err)
	}
}

// A server-streaming call is judged before its first message, over every
// protocol, and its handler's stream context carries the claims.
func TestStream(t *testing.T) {
	iss, v := setup(t)
	auth := bearerconnect.New(v, bearerconnect.WithProcedurePolicies(map[string][]bearer.Policy{
		watchProcedure: {bearer.RequireScope("country.read")},
	}))
	base := serve(t, auth, nil, nil)
	granted := iss.MustMint(t, map[string]any{"scope": "country.read", "client_id": "svc-a"})
	limited := iss.MustMint(t, map[string]any{"scope": "customer.read"})
	want := `{"client_id":"svc-a","scopes":["country.read"],"same":true}`
	for _, p := range protocols {
		if p.get {
			continue // streams are never GETs
		}
		t.Run(p.name, func(t *testing.T) {
			c := client(t, base, p, nil)
			got, _, err := watch(t.Context(), c, bearerHeader(granted))
			if err != nil || len(got) != watchAnswers || got[0] != want || got[1] != want {
				t.Fatalf("granted: %q, %v; want %d × %s", got, err, watchAnswers, want)
			}

			_, info, err := watch(t.Context(), c, bearerHeader(limited))
			if connect.CodeOf(err) != connect.CodePermissionDenied {
				t.Fatalf("missing scope: %v", err)
			}
			if ch := info.ResponseHeader().Values("WWW-Authenticate"); len(ch) != 1 || !strings.Contains(ch[0], `error="insufficient_scope"`) || !strings.Contains(ch[0], `scope="country.read"`) {
				t.Fatalf("missing scope: WWW-Authenticate %q", ch)
			}

			_, info, err = watch(t.Context(), c, nil)
			if connect.CodeOf(err) != connect.CodeUnauthenticated || info.ResponseHeader().Get("WWW-Authenticate") != `Bearer realm="country-api"` {
				t.Fatalf("no token: %v, WWW-Authenticate %q", err, info.ResponseHeader().Values("WWW-Authenticate"))
			}
		})
	}
}

// Over the Connect protocol a refused unary call is a plain HTTP answer:
// the status and WWW-Authenticate of the net/http adapter, with
// Connect's JSON error as the body, so that any HTTP client (curl)
// understands it.
func TestConnectRefusalIsHTTP(t *testing.T) {
	iss, v := setup(t)
	auth := bearerconnect.New(v, bearerconnect.WithDefaultPolicies(bearer.RequireScope("country.read")))
	base := serve(t, auth, nil, nil)
	for _, tc := range []struct {
		name, token string
		status      int
		code        string
	}{
		{"no token", "", http.StatusUnauthorized, "unauthenticated"},
		{"bad token", "not-a-token", http.StatusUnauthorized, "unauthenticated"},
		{"missing scope", iss.MustMint(t, map[string]any{"scope": "customer.read"}), http.StatusForbidden, "permission_denied"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+procedureFor[conformance.PathScoped], strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Code, Message string }
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			// The reference: package bearer's answer to the same request.
			r, _ := http.NewRequest(http.MethodPost, "/", nil)
			r.Header = req.Header.Clone()
			_, checkErr := v.Check(t.Context(), bearer.HTTPRequest(r), bearer.RequireScope("country.read"))
			want := v.Response(checkErr)
			if resp.StatusCode != tc.status || resp.StatusCode != want.Status {
				t.Fatalf("status %d; want %d", resp.StatusCode, want.Status)
			}
			if got := resp.Header.Values("WWW-Authenticate"); len(got) != 1 || got[0] != want.Header.Get("WWW-Authenticate") {
				t.Errorf("WWW-Authenticate %q; want %q", got, want.Header.Get("WWW-Authenticate"))
			}
			if body.Code != tc.code || body.Message != bearer.AsError(checkErr).Description {
				t.Errorf("body %+v", body)
			}
		})
	}
}

// countingBody counts what the handler reads of a request body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// A call is refused on its headers alone: Connect reads nothing of a
// refused call's message, whatever its size and protocol, so that an
// anonymous caller cannot make the server read, decompress or decode
// anything.
func TestRefusedBeforeTheMessageIsRead(t *testing.T) {
	iss, v := setup(t)
	var read atomic.Int64
	base := serve(t, bearerconnect.New(v), nil, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r.Body = countingBody{r.Body, &read}
			h.ServeHTTP(w, r)
		})
	})
	// A message of 1 MiB, which the server would decode as an Empty with
	// unknown fields if it read it.
	big := bytes.Repeat([]byte{0x0a}, 1<<20)
	for _, p := range protocols {
		if p.get {
			continue
		}
		t.Run(p.name, func(t *testing.T) {
			c := client(t, base, p, nil)
			for _, tok := range []string{"", "not-a-token"} {
				read.Store(0)
				ctx, info := connect.NewClientContext(t.Context())
				if tok != "" {
					info.RequestHeader().Set("Authorization", "Bearer "+tok)
				}
				err := c.CallUnary(ctx, unarySpec(procedureFor[conformance.PathAuthenticated]), wrapperspb.Bytes(big), new(emptypb.Empty))
				if connect.CodeOf(err) != connect.CodeUnauthenticated {
					t.Fatalf("token %q: %v", tok, err)
				}
				if n := read.Load(); n != 0 {
					t.Errorf("token %q: the server read %d bytes of a refused call", tok, n)
				}
			}
			// The counter counts: an accepted call's message is read.
			read.Store(0)
			ctx, info := connect.NewClientContext(t.Context())
			info.RequestHeader().Set("Authorization", "Bearer "+iss.MustMint(t, nil))
			if err := c.CallUnary(ctx, unarySpec(procedureFor[conformance.PathAuthenticated]), wrapperspb.Bytes([]byte("x")), new(emptypb.Empty)); err != nil {
				t.Fatal(err)
			}
			if read.Load() == 0 {
				t.Error("an accepted call's message was not read: the counter counts nothing")
			}
		})
	}
}

// recorder is a Checker that keeps the request it was asked about.
type recorder struct {
	bearer.Checker
	seen bearer.Request
}

func (r *recorder) Check(ctx context.Context, req bearer.Request, policies ...bearer.Policy) (*bearer.Claims, error) {
	r.seen = req
	return r.Checker.Check(ctx, req, policies...)
}

// The request package bearer judges is the HTTP request: its headers
// (case-insensitive, every value), its method (GET for a Connect GET), its
// path and its TLS client certificate; never its query, which holds the
// message of a Connect GET, nor a form.
func TestRequest(t *testing.T) {
	_, v := setup(t)
	rec := &recorder{Checker: v}
	serverTLS, roots, cert := tlsFixtures(t)
	base := serve(t, bearerconnect.New(rec), serverTLS, nil)
	header := http.Header{"Authorization": {"Bearer one", "Bearer two"}, "X-Token": {"t"}}
	procedure := procedureFor[conformance.PathAuthenticated]
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			c := client(t, base, p, &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{*cert}})
			_, _, _ = callWith(t.Context(), c, procedure, header)
			r := rec.seen
			if got := r.Header("authorization"); len(got) != 2 || got[0] != "Bearer one" || got[1] != "Bearer two" {
				t.Errorf("Header(authorization) = %q", got)
			}
			if got := r.Header("X-TOKEN"); len(got) != 1 || got[0] != "t" {
				t.Errorf("Header(X-TOKEN) = %q", got)
			}
			wantMethod := http.MethodPost
			if p.get {
				wantMethod = http.MethodGet
			}
			if r.Method() != wantMethod || r.Path() != procedure {
				t.Errorf("Method %q, Path %q; want %s %s", r.Method(), r.Path(), wantMethod, procedure)
			}
			for _, name := range []string{"message", "encoding", "connect", "access_token"} {
				if r.Query(name) != nil || r.Form(name) != nil {
					t.Errorf("Query(%s) = %q, Form(%s) = %q", name, r.Query(name), name, r.Form(name))
				}
			}
			if got := r.ClientCertificate(); got == nil || !got.Equal(cert.Leaf) {
				t.Errorf("ClientCertificate = %v", got)
			}
		})
	}

	// Without HTTP, a call is a POST to its procedure, without a
	// certificate.
	_, _, _ = callWith(t.Context(), inProcess(bearerconnect.New(rec), "/s.S/M"), "/s.S/M", bearerHeader("tok"))
	r := rec.seen
	if r.Method() != http.MethodPost || r.Path() != "/s.S/M" || r.ClientCertificate() != nil || r.Header("Authorization")[0] != "Bearer tok" {
		t.Errorf("in process: Method %q, Path %q, certificate %v, Authorization %q", r.Method(), r.Path(), r.ClientCertificate(), r.Header("Authorization"))
	}
}

func TestErrorHandler(t *testing.T) {
	_, v := setup(t)
	var seen error
	auth := bearerconnect.New(v, bearerconnect.WithErrorHandler(func(_ context.Context, err error) error {
		seen = err
		return connect.NewError(connect.CodeNotFound, "no such procedure")
	}))
	_, _, err := callWith(t.Context(), inProcess(auth, "/s.S/M"), "/s.S/M", nil)
	if connect.CodeOf(err) != connect.CodeNotFound || message(err) != "no such procedure" {
		t.Fatalf("err %v", err)
	}
	if !errors.Is(seen, bearer.ErrMissingToken) {
		t.Fatalf("the handler got %v", seen)
	}
}

// The default refusal keeps package bearer's error as its local cause, for
// the server's other interceptors (logging, metrics) to tell refusals
// apart with errors.Is. (Connect never sends a cause over the wire: the
// conformance test shows the message is the description alone.)
func TestRefusalCause(t *testing.T) {
	_, v := setup(t)
	var cause error
	logging := func(next connect.ServerFunc) connect.ServerFunc {
		return func(ctx context.Context, spec connect.Spec, stream connect.ServerStream) error {
			cause = next(ctx, spec, stream)
			return cause
		}
	}
	server := connect.NewServer(logging, bearerconnect.New(v).Intercept)
	server.Register(connect.Method{Spec: unarySpec("/s.S/M"), Handler: func(context.Context, connect.Spec, connect.ServerStream) error { return nil }})
	_, _, err := callWith(t.Context(), connect.NewClient(connectinprocess.New(server)), "/s.S/M", bearerHeader("not-a-token"))
	if !errors.Is(cause, bearer.ErrMalformed) || connect.CodeOf(cause) != connect.CodeUnauthenticated {
		t.Fatalf("the logging interceptor saw %v", cause)
	}
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("the client got %v", err)
	}
}

func TestNewRefusesNilChecker(t *testing.T) {
	var v *bearer.Verifier
	for _, c := range []bearer.Checker{nil, v} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "bearerconnect: New") {
					t.Fatalf("recovered %v", r)
				}
			}()
			bearerconnect.New(c)
		}()
	}
}

// tlsFixtures are a server TLS configuration for 127.0.0.1 that asks for
// client certificates, the pool that trusts it, and a client certificate.
func tlsFixtures(t *testing.T) (*tls.Config, *x509.CertPool, *tls.Certificate) {
	t.Helper()
	server := selfSigned(t, &x509.Certificate{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	roots := x509.NewCertPool()
	roots.AddCert(server.Leaf)
	client := selfSigned(t, &x509.Certificate{Subject: pkix.Name{CommonName: "client"}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return &tls.Config{Certificates: []tls.Certificate{*server}, ClientAuth: tls.RequestClientCert}, roots, client
}

func selfSigned(t *testing.T, tmpl *x509.Certificate) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber, tmpl.NotBefore, tmpl.NotAfter = big.NewInt(1), time.Now().Add(-time.Hour), time.Now().Add(time.Hour)
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

// serverContext is the context a handler of procedure gets for a call
// with header, as an interceptor sees it.
func serverContext(t *testing.T, procedure string, header http.Header) context.Context {
	t.Helper()
	var captured context.Context
	server := connect.NewServer()
	server.Register(connect.Method{Spec: unarySpec(procedure), Handler: func(ctx context.Context, _ connect.Spec, stream connect.ServerStream) error {
		captured = ctx
		if err := stream.Receive(new(emptypb.Empty)); err != nil {
			return err
		}
		return stream.Send(new(wrapperspb.BytesValue))
	}})
	if _, _, err := callWith(t.Context(), connect.NewClient(connectinprocess.New(server)), procedure, header); err != nil {
		t.Fatal(err)
	}
	return captured
}

// An accepted call whose token bearer has seen before allocates only the
// context that carries the claims to the handler: the request handed to
// bearer is the call's own CallInfo. Measured through Intercept, a
// protected procedure against a skipped one.
func TestAcceptedCacheHitAllocations(t *testing.T) {
	if bearertest.RaceDetector() {
		t.Skip("allocation counts vary under the race detector; make test runs this without it")
	}
	iss, v := setup(t)
	auth := bearerconnect.New(v, bearerconnect.WithDefaultPolicies(bearer.RequireScope("country.read")), bearerconnect.WithSkip("/s.S/Open"))
	header := bearerHeader(iss.MustMint(t, map[string]any{"scope": "country.read"}))
	next := auth.Intercept(func(context.Context, connect.Spec, connect.ServerStream) error { return nil })
	allocs := func(procedure string) float64 {
		ctx := serverContext(t, procedure, header)
		call := func() {
			if err := next(ctx, unarySpec(procedure), nil); err != nil {
				t.Fatal(err)
			}
		}
		call()
		return testing.AllocsPerRun(1000, call)
	}
	const inherent = 1 // the claims' context
	open, protected := allocs("/s.S/Open"), allocs("/s.S/Protected")
	if protected-open != inherent {
		t.Errorf("the protected procedure allocates %v times per call, the open one %v; want %d more", protected, open, inherent)
	}
}
