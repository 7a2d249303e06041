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
	Want   bearer.Response
	Claims *bearer.Claims // the verified claims when Want.Status is 200
}

// Calls returns the default suite's cases that carry nothing but headers,
// with the verifier to guard the routes with; the issuer and verifier are
// stopped when t ends.
func Calls(t *testing.T) (*bearer.Verifier, []Call) {
	t.Helper()
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(Audience), bearertest.WithKeysFor(bearertest.CommonAlgorithms...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	v := newVerifier(t, iss.URL(), nil)
	var calls []Call
	for _, tc := range cases(t, iss) {
		if tc.query != "" || tc.body != "" || tc.method != "" {
			continue
		}
		claims, want := reference(v, tc)
		if want.Status != tc.status {
			t.Fatalf("%s: the suite expects %d but package bearer answers %d", tc.name, tc.status, want.Status)
		}
		calls = append(calls, Call{Name: tc.name, Path: tc.path, Header: tc.header.Clone(), Want: want, Claims: claims})
	}
	return v, calls
}
