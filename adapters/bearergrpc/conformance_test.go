package bearergrpc_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

// wantCode is the gRPC code of each HTTP status of package bearer.
var wantCode = map[int]codes.Code{
	http.StatusOK:                 codes.OK,
	http.StatusBadRequest:         codes.InvalidArgument,
	http.StatusUnauthorized:       codes.Unauthenticated,
	http.StatusForbidden:          codes.PermissionDenied,
	http.StatusServiceUnavailable: codes.Unavailable,
}

// refusalTrailers are the headers of package bearer's refusal that a
// refused call carries as trailers.
var refusalTrailers = []string{"www-authenticate", "retry-after", "dpop-nonce"}

// ownTrailer reports whether a trailer is one of the refusal's or one that
// gRPC sends by itself: a call refused before the server sent any header
// gets a trailers-only answer, which carries the content type.
func ownTrailer(name string) bool {
	return slices.Contains(refusalTrailers, name) || name == "content-type"
}

// transport is how the test service's calls look to package bearer: POSTs
// to the full method name each route is served as.
var transport = conformance.Transport{Method: http.MethodPost, Path: func(route string) string { return methodFor[route] }}

// conformanceInterceptor guards the test service's methods as the
// conformance suite guards its routes.
func conformanceInterceptor(v bearer.Checker) *bearergrpc.Interceptor {
	return bearergrpc.New(v,
		bearergrpc.WithMethodPolicies(map[string][]bearer.Policy{
			methodFor[conformance.PathScoped]:  {bearer.RequireScope(conformance.Scope)},
			methodFor[conformance.PathPolicy]:  {conformance.Policy},
			methodFor[conformance.PathSkipped]: {bearer.RequireScope(conformance.Scope)},
		}),
		bearergrpc.WithOptional(methodFor[conformance.PathOptional]),
		bearergrpc.WithSkip(methodFor[conformance.PathSkipped]),
	)
}

// TestConformance runs the whole conformance suite, under each of its
// verifier configurations (resource metadata in challenges, DPoP with
// proofs for the call's POST to its full method name, DPoP with nonces,
// certificate-bound tokens with the certificate in a header or from the
// TLS connection, an issuer that is down…), with each case's headers as
// metadata, and expects package bearer's answer in gRPC's terms: the code
// of its status, its WWW-Authenticate challenges, Retry-After and
// DPoP-Nonce as trailers and nothing else, its description as the
// message, and on success the claims it verified and the DPoP-Nonce to use
// next as a header. The cases a call cannot carry (tokens in the URL
// query or a form body) are skipped with the suite's reason.
func TestConformance(t *testing.T) {
	suites := conformance.Calls(t, transport)
	if len(suites) < 4 {
		t.Fatalf("the conformance suite has %d configurations with calls", len(suites))
	}
	for _, s := range suites {
		t.Run(s.Name, func(t *testing.T) {
			var opts []grpc.ServerOption
			if s.TLS != nil {
				opts = append(opts, grpc.Creds(credentials.NewTLS(s.TLS)))
			}
			addr := serve(t, conformanceInterceptor(s.Verifier), opts...)
			conn := dial(t, addr, plaintext)
			for _, c := range s.Calls {
				t.Run(c.Name, func(t *testing.T) {
					if c.Skip != "" {
						t.Skip(c.Skip)
					}
					if c.TLS != nil {
						// The certificate is the connection's: one per call.
						conn = dial(t, addr, grpc.WithTransportCredentials(credentials.NewTLS(c.TLS)))
					}
					checkCall(t, conn, s.Verifier, c)
				})
			}
		})
	}
}

func checkCall(t *testing.T, conn *grpc.ClientConn, v bearer.Checker, c conformance.Call) {
	md := metadata.MD{}
	for name, values := range c.Header {
		md.Append(name, values...)
	}
	ctx := metadata.NewOutgoingContext(t.Context(), md)
	if c.Repeat {
		_, _, _ = call(ctx, conn, methodFor[c.Path])
	}
	var header metadata.MD
	body, trailer, err := call(ctx, conn, methodFor[c.Path], grpc.Header(&header))
	st := status.Convert(err)
	if want := wantCode[c.Want.Status]; st.Code() != want {
		t.Fatalf("code = %v (%s); want %v, for HTTP %d", st.Code(), st.Message(), want, c.Want.Status)
	}
	if c.Want.Status == http.StatusOK {
		if want := conformance.Body(c.Claims, c.Claims); string(body) != string(want) {
			t.Fatalf("the handler saw %s; want %s", body, want)
		}
		if got := trailer.Get("www-authenticate"); got != nil {
			t.Fatalf("an accepted call got a challenge %q", got)
		}
		for name, values := range bearer.AcceptHeaderOf(v) {
			if got := header.Get(name); !slices.Equal(got, values) {
				t.Errorf("accepted: header %s = %q; want %q", name, got, values)
			}
		}
		return
	}
	for _, name := range refusalTrailers {
		if got, want := trailer.Get(name), c.Want.Header.Values(name); !slices.Equal(got, want) {
			t.Errorf("%s = %q; want %q", name, got, want)
		}
	}
	if extra := slices.DeleteFunc(slices.Collect(maps.Keys(trailer)), ownTrailer); len(extra) > 0 {
		t.Errorf("extra trailers %q", extra)
	}
	var want struct {
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(c.Want.Body, &want); err != nil {
		t.Fatal(err)
	}
	if st.Message() != want.Description {
		t.Errorf("message = %q; want %q", st.Message(), want.Description)
	}
}
