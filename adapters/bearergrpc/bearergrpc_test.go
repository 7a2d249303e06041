package bearergrpc_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
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

func withToken(ctx context.Context, tok string) context.Context {
	if tok == "" {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

func TestStream(t *testing.T) {
	iss, v := setup(t)
	auth := bearergrpc.New(v, bearergrpc.WithMethodPolicies(map[string][]bearer.Policy{
		watchMethod: {bearer.RequireScope("country.read")},
	}))
	conn := dial(t, serve(t, auth), plaintext)
	watch := func(tok string) ([]string, metadata.MD, error) {
		stream, err := conn.NewStream(withToken(t.Context(), tok), &guardedService.Streams[0], watchMethod)
		if err != nil {
			return nil, nil, err
		}
		if err := stream.SendMsg(&emptypb.Empty{}); err != nil {
			return nil, nil, err
		}
		if err := stream.CloseSend(); err != nil {
			return nil, nil, err
		}
		var got []string
		for {
			out := new(wrapperspb.BytesValue)
			err := stream.RecvMsg(out)
			if errors.Is(err, io.EOF) {
				return got, stream.Trailer(), nil
			}
			if err != nil {
				return got, stream.Trailer(), err
			}
			got = append(got, string(out.GetValue()))
		}
	}

	got, _, err := watch(iss.MustMint(t, map[string]any{"scope": "country.read", "client_id": "svc-a"}))
	want := `{"client_id":"svc-a","scopes":["country.read"],"same":true}`
	if err != nil || len(got) != watchAnswers || got[0] != want || got[1] != want {
		t.Fatalf("granted: %q, %v; want %d × %s", got, err, watchAnswers, want)
	}

	_, trailer, err := watch(iss.MustMint(t, map[string]any{"scope": "customer.read"}))
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("missing scope: %v", err)
	}
	if c := trailer.Get("www-authenticate"); len(c) != 1 || !strings.Contains(c[0], `error="insufficient_scope"`) || !strings.Contains(c[0], `scope="country.read"`) {
		t.Fatalf("missing scope: www-authenticate %q", c)
	}

	_, trailer, err = watch("")
	if status.Code(err) != codes.Unauthenticated || len(trailer.Get("www-authenticate")) != 1 {
		t.Fatalf("no token: %v, trailer %v", err, trailer)
	}
}

// unary calls auth's unary interceptor as a server would, for method, with
// tok in the metadata, and reports the code and whether the handler saw
// claims.
func unary(auth *bearergrpc.Interceptor, method, tok string) (codes.Code, bool) {
	ctx := context.Background()
	if tok != "" {
		ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("authorization", "Bearer "+tok))
	}
	var sawClaims bool
	_, err := auth.Unary(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method}, func(ctx context.Context, _ any) (any, error) {
		_, sawClaims = bearergrpc.Claims(ctx)
		return nil, nil
	})
	return status.Code(err), sawClaims
}

func TestMethodPolicies(t *testing.T) {
	iss, v := setup(t)
	auth := bearergrpc.New(v,
		bearergrpc.WithDefaultPolicies(bearer.RequireScope("country.read")),
		bearergrpc.WithMethodPolicies(map[string][]bearer.Policy{
			"/country.v1.CountryService/ListCountries": nil,
			"/country.v1.CountryService/PutCountry":    {bearer.RequireScope("country.write")},
			"/admin.v1.Admin/":                         {bearer.RequireScope("admin")},
			"/admin.v1.Admin/Status":                   {bearer.RequireScope("admin.status")},
		}),
		bearergrpc.WithSkip("/grpc.health.v1.Health/", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"),
		bearergrpc.WithOptional("/country.v1.CountryService/Search"),
	)
	tok := func(scope string) string { return iss.MustMint(t, map[string]any{"scope": scope}) }
	read, write, admin := tok("country.read"), tok("country.write"), tok("admin")

	for _, c := range []struct {
		name, method, token string
		want                codes.Code
		claims              bool
	}{
		{"default policy met", "/country.v1.CountryService/GetCountry", read, codes.OK, true},
		{"default policy not met", "/country.v1.CountryService/GetCountry", write, codes.PermissionDenied, false},
		{"default for an unknown service", "/other.v1.Other/Get", write, codes.PermissionDenied, false},
		{"method without policies", "/country.v1.CountryService/ListCountries", write, codes.OK, true},
		{"method without policies needs a token", "/country.v1.CountryService/ListCountries", "", codes.Unauthenticated, false},
		{"method policy replaces the default", "/country.v1.CountryService/PutCountry", write, codes.OK, true},
		{"method policy not met", "/country.v1.CountryService/PutCountry", read, codes.PermissionDenied, false},
		{"service policy", "/admin.v1.Admin/Restart", admin, codes.OK, true},
		{"service policy not met", "/admin.v1.Admin/Restart", read, codes.PermissionDenied, false},
		{"method wins over its service", "/admin.v1.Admin/Status", admin, codes.PermissionDenied, false},
		{"skipped service", "/grpc.health.v1.Health/Check", "", codes.OK, false},
		{"skipped service, bad token", "/grpc.health.v1.Health/Watch", "not-a-token", codes.OK, false},
		{"skipped method", "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "", codes.OK, false},
		{"skip names no other method", "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "", codes.Unauthenticated, false},
		{"optional, no token", "/country.v1.CountryService/Search", "", codes.OK, false},
		{"optional, token", "/country.v1.CountryService/Search", read, codes.OK, true},
		{"optional, default policy still applies", "/country.v1.CountryService/Search", write, codes.PermissionDenied, false},
		{"optional, bad token", "/country.v1.CountryService/Search", "not-a-token", codes.Unauthenticated, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, claims := unary(auth, c.method, c.token)
			if code != c.want || claims != c.claims {
				t.Fatalf("code %v, claims %v; want %v, %v", code, claims, c.want, c.claims)
			}
		})
	}
}

func TestMethodPoliciesAreCopied(t *testing.T) {
	iss, v := setup(t)
	m := map[string][]bearer.Policy{"/s.S/M": {bearer.RequireScope("country.read")}}
	auth := bearergrpc.New(v, bearergrpc.WithMethodPolicies(m))
	m["/s.S/M"] = nil
	if code, _ := unary(auth, "/s.S/M", iss.MustMint(t, map[string]any{"scope": "other"})); code != codes.PermissionDenied {
		t.Fatalf("code %v: a change to the map after New changed the policies", code)
	}
}

func TestIssuerUnavailable(t *testing.T) {
	iss, v := setup(t)
	tok := iss.MustMint(t, map[string]any{"scope": "country.read"})
	iss.SetDown(true)
	conn := dial(t, serve(t, bearergrpc.New(v)), plaintext)
	_, trailer, err := call(withToken(t.Context(), tok), conn, methodFor[conformance.PathAuthenticated])
	st := status.Convert(err)
	if st.Code() != codes.Unavailable || st.Message() == "" {
		t.Fatalf("status %v %q", st.Code(), st.Message())
	}
	if ra := trailer.Get("retry-after"); len(ra) != 1 || ra[0] == "" {
		t.Fatalf("retry-after %q", ra)
	}
	if c := trailer.Get("www-authenticate"); c != nil {
		t.Fatalf("www-authenticate %q: the token was not judged, so there is no challenge", c)
	}
}

func TestErrorHandler(t *testing.T) {
	_, v := setup(t)
	var seen error
	auth := bearergrpc.New(v, bearergrpc.WithErrorHandler(func(ctx context.Context, err error) error {
		seen = err
		return status.Error(codes.NotFound, "no such method")
	}))
	if code, _ := unary(auth, "/s.S/M", ""); code != codes.NotFound {
		t.Fatalf("code %v", code)
	}
	if !errors.Is(seen, bearer.ErrMissingToken) {
		t.Fatalf("the handler got %v", seen)
	}
}

// recorder is a Checker that keeps what the request it was asked about
// answered, while Check runs: the interceptor reuses its requests.
type recorder struct {
	bearer.Checker
	auth, token, query, form []string
	method, path             string
	cert                     *x509.Certificate
}

func (r *recorder) Check(ctx context.Context, req bearer.Request, policies ...bearer.Policy) (*bearer.Claims, error) {
	r.auth = slices.Clone(req.Header("Authorization"))
	r.token = slices.Clone(req.Header("X-Token"))
	r.query, r.form = req.Query("access_token"), req.Form("access_token")
	r.method, r.path, r.cert = req.Method(), req.Path(), req.ClientCertificate()
	return r.Checker.Check(ctx, req, policies...)
}

func TestRequest(t *testing.T) {
	_, v := setup(t)
	rec := &recorder{Checker: v}
	cert := &x509.Certificate{Raw: []byte("client")}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{
		"authorization": {"Bearer one", "Bearer two"},
		"x-token":       {"t"},
	})
	ctx = peer.NewContext(ctx, &peer.Peer{AuthInfo: credentials.TLSInfo{State: tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}}})
	_, _ = bearergrpc.New(rec).Unary(ctx, nil, &grpc.UnaryServerInfo{FullMethod: "/s.S/M"}, nil)

	if got := rec.auth; len(got) != 2 || got[0] != "Bearer one" {
		t.Errorf("Header(Authorization) = %q", got)
	}
	if got := rec.token; len(got) != 1 || got[0] != "t" {
		t.Errorf("Header(X-Token) = %q", got)
	}
	if rec.method != "POST" || rec.path != "/s.S/M" || rec.query != nil || rec.form != nil {
		t.Errorf("Method %q, Path %q, Query %q, Form %q", rec.method, rec.path, rec.query, rec.form)
	}
	if rec.cert != cert {
		t.Errorf("ClientCertificate = %v", rec.cert)
	}

	_, _ = bearergrpc.New(rec).Unary(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/s.S/M"}, nil)
	if rec.auth != nil || rec.cert != nil {
		t.Errorf("a call without metadata or peer: header %q, certificate %v", rec.auth, rec.cert)
	}
}

func TestNewRefusesNilChecker(t *testing.T) {
	var v *bearer.Verifier
	for _, c := range []bearer.Checker{nil, v} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "bearergrpc: New") {
					t.Fatalf("recovered %v", r)
				}
			}()
			bearergrpc.New(c)
		}()
	}
}

// A DPoP client whose proof lacks the server's nonce learns it from the
// refusal, as the HTTP adapters send it in the DPoP-Nonce header, and is
// accepted when it retries with it.
func TestDPoPNonce(t *testing.T) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	const publicURL = "https://api.example.com"
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler),
		DPoP: &bearer.DPoP{PublicURL: publicURL, NonceSecret: []byte("0123456789abcdef0123456789abcdef")}})
	if err != nil {
		t.Fatal(err)
	}
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, map[string]any{"cnf": map[string]any{"jkt": key.Thumbprint()}})
	method := methodFor[conformance.PathAuthenticated]
	conn := dial(t, serve(t, bearergrpc.New(v)), plaintext)
	send := func(nonce string) (metadata.MD, metadata.MD, error) {
		proof, err := key.DPoPProof("POST", publicURL+method, tok, nonce)
		if err != nil {
			t.Fatal(err)
		}
		ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "DPoP "+tok, "dpop", proof)
		var header metadata.MD
		_, trailer, err := call(ctx, conn, method, grpc.Header(&header))
		return header, trailer, err
	}

	_, trailer, err := send("")
	if st := status.Convert(err); st.Code() != codes.Unauthenticated {
		t.Fatalf("a proof without a nonce: %v %q", st.Code(), st.Message())
	}
	if c := strings.Join(trailer.Get("www-authenticate"), " "); !strings.Contains(c, "use_dpop_nonce") {
		t.Fatalf("www-authenticate %q", c)
	}
	nonce := trailer.Get("dpop-nonce")
	if len(nonce) != 1 || nonce[0] == "" {
		t.Fatalf("dpop-nonce trailer %q: the client cannot learn the nonce", nonce)
	}
	header, _, err := send(nonce[0])
	if err != nil {
		t.Fatalf("a proof with the nonce: %v", err)
	}
	if n := header.Get("dpop-nonce"); len(n) != 1 || n[0] == "" {
		t.Fatalf("dpop-nonce header %q on acceptance", n)
	}
}

// An accepted call whose token bearer has seen before allocates only what
// the interceptor cannot do without: the copy of the authorization
// metadata gRPC's metadata.ValueFromIncomingContext makes (gRPC has no
// other way to read incoming metadata), and the context carrying the
// claims to the handler. The request it hands bearer comes from a pool.
// Measured through Unary, a protected method against a skipped one.
func TestAcceptedCacheHitAllocations(t *testing.T) {
	if bearertest.RaceDetector() {
		t.Skip("allocation counts vary under the race detector; make test runs this without it")
	}
	iss, v := setup(t)
	auth := bearergrpc.New(v, bearergrpc.WithDefaultPolicies(bearer.RequireScope("country.read")), bearergrpc.WithSkip("/s.S/Open"))
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", "Bearer "+iss.MustMint(t, map[string]any{"scope": "country.read"})))
	ok := func(context.Context, any) (any, error) { return nil, nil }
	allocs := func(method string) float64 {
		info := &grpc.UnaryServerInfo{FullMethod: method}
		call := func() {
			if _, err := auth.Unary(ctx, nil, info, ok); err != nil {
				t.Fatal(err)
			}
		}
		call()
		return testing.AllocsPerRun(1000, call)
	}
	const inherent = 2 // the metadata's copy, the claims' context
	open, protected := allocs("/s.S/Open"), allocs("/s.S/Protected")
	if protected-open != inherent {
		t.Errorf("the protected method allocates %v times per call, the open one %v; want %d more", protected, open, inherent)
	}
}
