package bearerconnect_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"connectrpc.com/connect/v2"

	"github.com/bouncer-go/bouncer/adapters/bearerconnect"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

// wantCode is the Connect code of each HTTP status of package bearer.
var wantCode = map[int]connect.Code{
	http.StatusBadRequest:         connect.CodeInvalidArgument,
	http.StatusUnauthorized:       connect.CodeUnauthenticated,
	http.StatusForbidden:          connect.CodePermissionDenied,
	http.StatusServiceUnavailable: connect.CodeUnavailable,
}

// answerHeaders are the headers of package bearer's refusal that a
// refused call carries as metadata.
var answerHeaders = []string{"WWW-Authenticate", "Retry-After", "DPoP-Nonce"}

// conformanceInterceptor guards the test service's procedures as the
// conformance suite guards its routes.
func conformanceInterceptor(v bearer.Checker) *bearerconnect.Interceptor {
	return bearerconnect.New(v,
		bearerconnect.WithProcedurePolicies(map[string][]bearer.Policy{
			procedureFor[conformance.PathScoped]:  {bearer.RequireScope(conformance.Scope)},
			procedureFor[conformance.PathPolicy]:  {conformance.Policy},
			procedureFor[conformance.PathSkipped]: {bearer.RequireScope(conformance.Scope)},
		}),
		bearerconnect.WithOptional(procedureFor[conformance.PathOptional]),
		bearerconnect.WithSkip(procedureFor[conformance.PathSkipped]),
	)
}

// TestConformance runs the whole conformance suite over each protocol a
// Connect handler serves: Connect with POST and with GET, gRPC and
// gRPC-Web. DPoP proofs name the call's real method and its path, the
// procedure; the certificate-bound suite over TLS presents the client
// certificate on the connection. Every call must get package bearer's
// answer in Connect's terms: the code of its status, its description as
// the message, its WWW-Authenticate, Retry-After and DPoP-Nonce as
// response headers and not as trailers, and on success the claims it verified and the DPoP-Nonce to use
// next as a header. The cases a call cannot carry are skipped with the
// suite's reason.
func TestConformance(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.name, func(t *testing.T) {
			method := http.MethodPost
			if p.get {
				method = http.MethodGet
			}
			suites := conformance.Calls(t, conformance.Transport{Method: method, Path: func(route string) string { return procedureFor[route] }})
			for _, s := range suites {
				t.Run(s.Name, func(t *testing.T) {
					base := serve(t, conformanceInterceptor(s.Verifier), s.TLS, nil)
					c := client(t, base, p, nil)
					for _, call := range s.Calls {
						t.Run(call.Name, func(t *testing.T) {
							if call.Skip != "" {
								t.Skip(call.Skip)
							}
							if call.TLS != nil {
								// The certificate is the connection's: one per call.
								c = client(t, base, p, call.TLS)
							}
							checkCall(t, c, s.Verifier, call)
						})
					}
				})
			}
		})
	}
}

func checkCall(t *testing.T, c *connect.Client, v bearer.Checker, call conformance.Call) {
	t.Helper()
	procedure := procedureFor[call.Path]
	if call.Repeat {
		_, _, _ = callWith(t.Context(), c, procedure, call.Header)
	}
	body, info, err := callWith(t.Context(), c, procedure, call.Header)
	if call.Want.Status == http.StatusOK {
		if err != nil {
			t.Fatalf("%v; want OK", err)
		}
		if want := conformance.Body(call.Claims, call.Claims); string(body) != string(want) {
			t.Fatalf("the handler saw %s; want %s", body, want)
		}
		for _, md := range []*connect.Header{info.ResponseHeader(), info.ResponseTrailer()} {
			if got := md.Values("WWW-Authenticate"); got != nil {
				t.Fatalf("an accepted call got a challenge %q", got)
			}
		}
		for name, values := range bearer.AcceptHeaderOf(v) {
			if got := info.ResponseHeader().Values(name); !slices.Equal(got, values) {
				t.Errorf("accepted: header %s = %q; want %q", name, got, values)
			}
		}
		return
	}
	if got, want := connect.CodeOf(err), wantCode[call.Want.Status]; got != want {
		t.Fatalf("code = %v (%v); want %v, for HTTP %d", got, err, want, call.Want.Status)
	}
	for _, name := range answerHeaders {
		if got, want := info.ResponseHeader().Values(name), call.Want.Header.Values(name); !slices.Equal(got, want) {
			t.Errorf("%s = %q; want %q", name, got, want)
		}
		if got := info.ResponseTrailer().Values(name); got != nil {
			t.Errorf("%s also a trailer: %q", name, got)
		}
	}
	var want struct {
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal(call.Want.Body, &want); err != nil {
		t.Fatal(err)
	}
	if got := message(err); got != want.Description {
		t.Errorf("message = %q; want %q", got, want.Description)
	}
}
