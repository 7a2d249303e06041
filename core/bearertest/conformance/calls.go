package conformance

import (
	"net/http"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// A Call is one case of the suite reduced to what a transport other than
// HTTP carries (gRPC metadata, say): request headers and a route. Want is
// package bearer's answer, the status and headers an HTTP adapter must
// send; an adapter for another transport maps it to its own terms (a gRPC
// status code, a www-authenticate trailer) and proves it answers alike.
type Call struct {
	Name   string
	Path   string // one of the Path constants
	Header http.Header
	// Repeat asks for the call to be sent twice, and the second answer
	// judged: a replayed DPoP proof, or a token whose earlier calls'
	// handlers changed their claims (see Body).
	Repeat bool
	Want   bearer.Response
	Claims *bearer.Claims // the verified claims when Want.Status is 200
}

// A CallSuite is one verifier configuration of the suite (resource
// metadata in challenges, DPoP…) and its calls. Verifier guards the
// server under test; Want was computed with a twin of it.
type CallSuite struct {
	Name     string
	Verifier *bearer.Verifier
	Calls    []Call
}

// Transport is how a transport other than HTTP presents its calls to
// package bearer (its bearer.Request): the HTTP method every call has, and
// the path each route becomes. DPoP proofs name both.
type Transport struct {
	// Method is every call's method: http.MethodPost for gRPC.
	Method string
	// Path is the request path of a route (one of the Path constants):
	// for gRPC, the full method name the route is served as.
	Path func(route string) string
}

// Calls returns the suite's cases that carry nothing but headers, for
// every verifier configuration, as tr carries them; the issuer and the
// verifiers are stopped when t ends.
func Calls(t *testing.T, tr Transport) []CallSuite {
	t.Helper()
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(Audience), bearertest.WithKeysFor(bearertest.CommonAlgorithms...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	in := transport{method: tr.Method, path: tr.Path}
	var out []CallSuite
	for _, s := range suites(in) {
		v, twin := newVerifier(t, iss.URL(), s.edit), newVerifier(t, iss.URL(), s.edit)
		cs := CallSuite{Name: s.name, Verifier: v}
		for _, tc := range s.cases(t, iss) {
			if tc.query != "" || tc.body != "" || tc.method != "" || tc.contentType != "" {
				continue
			}
			sent := tc
			sent.method, sent.path = in.method, in.path(tc.path)
			if tc.repeat {
				referenceTo(twin, tc, plainRequest{sent})
			}
			claims, want := referenceTo(twin, tc, plainRequest{sent})
			if want.Status != tc.status {
				t.Fatalf("%s, %s: the suite expects %d but package bearer answers %d", s.name, tc.name, tc.status, want.Status)
			}
			cs.Calls = append(cs.Calls, Call{Name: tc.name, Path: tc.path, Header: tc.header.Clone(), Repeat: tc.repeat, Want: want, Claims: claims})
		}
		if len(cs.Calls) > 0 {
			out = append(out, cs)
		}
	}
	return out
}
