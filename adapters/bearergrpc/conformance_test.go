package bearergrpc_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"google.golang.org/grpc/codes"
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

// ownTrailer reports whether a trailer is the refusal's challenge or one
// that gRPC sends by itself: a call refused before the server sent any
// header gets a trailers-only answer, which carries the content type.
func ownTrailer(name string) bool { return name == "www-authenticate" || name == "content-type" }

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

// TestConformance sends every header-only case of the conformance suite as
// metadata and expects package bearer's answer in gRPC's terms: the code of
// its status, its challenge in the www-authenticate trailer and nothing
// else, its description as the message, and on success the claims it
// verified.
func TestConformance(t *testing.T) {
	v, calls := conformance.Calls(t)
	if len(calls) == 0 {
		t.Fatal("the conformance suite has no calls")
	}
	conn := dial(t, serve(t, conformanceInterceptor(v)), plaintext)
	for _, c := range calls {
		t.Run(c.Name, func(t *testing.T) {
			md := metadata.MD{}
			for name, values := range c.Header {
				md.Append(name, values...)
			}
			body, trailer, err := call(metadata.NewOutgoingContext(t.Context(), md), conn, methodFor[c.Path])
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
				return
			}
			if got, want := trailer.Get("www-authenticate"), c.Want.Header.Values("WWW-Authenticate"); !slices.Equal(got, want) {
				t.Errorf("www-authenticate = %q; want %q", got, want)
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
		})
	}
}
