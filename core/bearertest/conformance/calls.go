package conformance

import (
	"crypto/tls"
	"crypto/x509"
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
	// TLS, in a suite served over TLS (CallSuite.TLS), is the client's
	// configuration for this call: it trusts the server's certificate and
	// presents the call's client certificate, or none. Make the call on a
	// connection of its own with it.
	TLS *tls.Config
	// Skip, when set, is why the case cannot apply to a call of an RPC
	// transport (a token in the URL query or in a form body); the test
	// skips the call with it, t.Skip(c.Skip), so that its output says
	// what the front door does not run.
	Skip string
}

// A CallSuite is one verifier configuration of the suite (resource
// metadata in challenges, DPoP…) and its calls. Verifier guards the
// server under test; Want was computed with a twin of it.
type CallSuite struct {
	Name     string
	Verifier *bearer.Verifier
	// TLS, when set, is the server's TLS configuration: serve the suite
	// over TLS with it and make each call with its Call.TLS, for the
	// client certificate comes from the connection. It asks clients for a
	// certificate and checks none: the token's binding is the check.
	TLS   *tls.Config
	Calls []Call
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

// Why the cases an RPC cannot carry are skipped.
const (
	skipQuery = "an RPC has no URL query to carry a token (the query of a Connect GET is its message)"
	skipForm  = "an RPC's body is its message, never a form to carry a token"
	skipDoc   = "the RFC 9728 document is an HTTP resource: an HTTP handler beside the RPC routes serves it " +
		"(bearerhttp.Metadata, tested with the HTTP adapters), not an RPC front door"
)

// Calls returns every case of the suite, for every verifier configuration,
// as tr carries them, then the issuer-unavailable calls, as Run sends them
// to HTTP servers; the issuers and verifiers are stopped when t ends.
// Cases an RPC cannot carry come with a Skip reason; those whose client
// certificate comes from the TLS connection form a suite with TLS set.
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
		out = append(out, callSuite(t, s.name, v, twin, in, s.cases(t, iss)))
	}
	out = append(out, CallSuite{Name: "resource metadata document", Verifier: newVerifier(t, iss.URL(), nil),
		Calls: []Call{{Name: "GET and HEAD", Path: Metadata.Path(), Skip: skipDoc}}})

	// The verifier served and the reference both see the issuer down from
	// their first call, so that both are in their first back-off and
	// answer the same Retry-After.
	down, err := bearertest.NewIssuer(bearertest.WithAudience(Audience))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(down.Close)
	tok := down.MustMint(t, map[string]any{"scope": Scope})
	down.SetDown(true)
	var unavailable []testCase
	for _, p := range []string{PathAuthenticated, PathScoped, PathPolicy} {
		unavailable = append(unavailable, testCase{name: p, path: p, header: bearerHeader(tok), status: http.StatusServiceUnavailable})
	}
	out = append(out, callSuite(t, "issuer unavailable", newVerifier(t, down.URL(), nil), newVerifier(t, down.URL(), nil), in, unavailable))
	return out
}

// callSuite is the suite name of cases as tr carries them, guarded by v,
// with the answers of twin.
func callSuite(t *testing.T, name string, v, twin *bearer.Verifier, tr transport, cases []testCase) CallSuite {
	t.Helper()
	cs := CallSuite{Name: name, Verifier: v}
	var roots *x509.CertPool
	for _, tc := range cases {
		c := Call{Name: tc.name, Path: tc.path, Header: tc.header.Clone(), Repeat: tc.repeat}
		switch {
		case tc.query != "":
			c.Skip = skipQuery
		case tc.body != "" || tc.contentType != "" || tc.method != "":
			c.Skip = skipForm
		}
		if c.Skip != "" {
			cs.Calls = append(cs.Calls, c)
			continue
		}
		if tc.overTLS {
			if cs.TLS == nil {
				cs.TLS, roots = tlsPair(t)
			}
			c.TLS = clientTLS(roots, tc.cert)
		}
		sent := tc
		sent.method, sent.path = tr.method, tr.path(tc.path)
		if tc.repeat {
			referenceTo(twin, tc, plainRequest{sent})
		}
		claims, want := referenceTo(twin, tc, plainRequest{sent})
		if want.Status != tc.status {
			t.Fatalf("%s, %s: the suite expects %d but package bearer answers %d", name, tc.name, tc.status, want.Status)
		}
		c.Want, c.Claims = want, claims
		cs.Calls = append(cs.Calls, c)
	}
	return cs
}
