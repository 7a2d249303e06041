package bearer_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

func TestToken(t *testing.T) {
	v, err := bearer.New(bearer.Config{Issuer: "https://issuer.example", Audiences: []string{"api"}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		req      fakeRequest
		token    string
		sentinel error
		status   int
	}{
		{"bearer", withAuth("Bearer abc.def.ghi"), "abc.def.ghi", nil, 0},
		{"scheme in any case", withAuth("bEaReR abc"), "abc", nil, 0},
		{"several spaces", withAuth("Bearer   abc"), "abc", nil, 0},
		{"b64token padding", withAuth("Bearer abc=="), "abc==", nil, 0},
		{"no header", withAuth(), "", bearer.ErrMissingToken, 401},
		{"other scheme", withAuth("Basic dXNlcjpwYXNz"), "", bearer.ErrMissingToken, 401},
		{"scheme only", withAuth("Bearer"), "", bearer.ErrInvalidRequest, 400},
		{"empty token", withAuth("Bearer "), "", bearer.ErrInvalidRequest, 400},
		{"two tokens in one header", withAuth("Bearer abc def"), "", bearer.ErrInvalidRequest, 400},
		{"illegal character", withAuth("Bearer abc\"def"), "", bearer.ErrInvalidRequest, 400},
		{"padding inside", withAuth("Bearer ab=c"), "", bearer.ErrInvalidRequest, 400},
		{"two Authorization headers", withAuth("Bearer abc", "Bearer abc"), "", bearer.ErrInvalidRequest, 400},
		{"Bearer and Basic headers", withAuth("Basic x", "Bearer abc"), "", bearer.ErrInvalidRequest, 400},
		{"query token ignored when not enabled", fakeRequest{query: url.Values{"access_token": {"abc"}}}, "", bearer.ErrMissingToken, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := v.Token(tc.req)
			if tc.sentinel == nil {
				if err != nil || tok != tc.token {
					t.Fatalf("token %q, err %v; want %q", tok, err, tc.token)
				}
				return
			}
			e := wantRefusal(t, err, tc.sentinel, tc.status)
			if tc.sentinel == bearer.ErrMissingToken && e.Code != "" {
				t.Fatalf("a request without credentials got error code %q", e.Code)
			}
		})
	}
}

func TestTokenQueryAndForm(t *testing.T) {
	v, err := bearer.New(bearer.Config{Issuer: "https://issuer.example", Audiences: []string{"api"}, AllowQueryToken: true, AllowFormToken: true})
	if err != nil {
		t.Fatal(err)
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	cases := []struct {
		name     string
		req      fakeRequest
		token    string
		sentinel error
	}{
		{"query", fakeRequest{header: http.Header{}, query: url.Values{"access_token": {"q"}}}, "q", nil},
		{"form", fakeRequest{method: "POST", header: form, form: url.Values{"access_token": {"f"}}}, "f", nil},
		{"form on GET is not read", fakeRequest{header: form, form: url.Values{"access_token": {"f"}}}, "", bearer.ErrMissingToken},
		{"form on DELETE is not read", fakeRequest{method: "DELETE", header: form, form: url.Values{"access_token": {"f"}}}, "", bearer.ErrMissingToken},
		{"form on PUT", fakeRequest{method: "PUT", header: form, form: url.Values{"access_token": {"f"}}}, "f", nil},
		{"form of another type is not read", fakeRequest{method: "POST", header: http.Header{"Content-Type": {"application/json"}}, form: url.Values{"access_token": {"f"}}}, "", bearer.ErrMissingToken},
		{"header and query", fakeRequest{header: http.Header{"Authorization": {"Bearer h"}}, query: url.Values{"access_token": {"q"}}}, "", bearer.ErrInvalidRequest},
		{"query twice", fakeRequest{header: http.Header{}, query: url.Values{"access_token": {"q", "r"}}}, "", bearer.ErrInvalidRequest},
		{"empty query token", fakeRequest{header: http.Header{}, query: url.Values{"access_token": {""}}}, "", bearer.ErrInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := v.Token(tc.req)
			if tc.sentinel == nil {
				if err != nil || tok != tc.token {
					t.Fatalf("token %q, err %v; want %q", tok, err, tc.token)
				}
				return
			}
			if err == nil || !errorsIs(err, tc.sentinel) {
				t.Fatalf("err = %v; want %v", err, tc.sentinel)
			}
		})
	}
}

// aliased is a request whose header values are views of one buffer, as
// fasthttp's are of the connection's, and a function that overwrites the
// buffer, as the connection's next request does once the handler returned.
func aliased(path string, header ...[2]string) (fakeRequest, func()) {
	size := 0
	for _, h := range header {
		size += len(h[1])
	}
	buf := make([]byte, 0, size)
	r := fakeRequest{path: path, header: http.Header{}}
	for _, h := range header {
		start := len(buf)
		buf = append(buf, h[1]...) // within cap: the views stay on buf
		r.header.Add(h[0], unsafe.String(&buf[start], len(h[1])))
	}
	return r, func() {
		for i := range buf {
			buf[i] = 'A'
		}
	}
}

// Adapters may hand bearer strings that alias their framework's buffers
// (see Request): whatever bearer keeps beyond the call, the token cache,
// the header cache, the replay store, is its own copy, and so is the token
// Token returns.
func TestRequestStringsMayAliasBuffers(t *testing.T) {
	iss := newIssuer(t, bearertest.WithKeysFor(bearertest.CommonAlgorithms...))
	var last atomic.Value // the last decision
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.DPoP = &bearer.DPoP{PublicURL: publicURL}
		c.Observer = bearer.ObserverFunc(func(e bearer.Event) { last.Store(e) })
	})
	var tokens []string
	for _, alg := range bearertest.CommonAlgorithms {
		for i := range 3 { // the header cache takes a header on its second sighting
			tokens = append(tokens, iss.MustMint(t, map[string]any{"sub": fmt.Sprint(alg, i), "scope": "country.read"}, bearertest.WithAlg(alg)))
		}
	}
	var fromToken []string
	for _, tok := range tokens {
		r, scribble := aliased("/", [2]string{"Authorization", "Bearer " + tok})
		if _, err := v.Check(bg, r); err != nil {
			t.Fatal(err)
		}
		got, err := v.Token(r)
		if err != nil {
			t.Fatal(err)
		}
		fromToken = append(fromToken, got)
		scribble()
	}
	for i, tok := range tokens {
		c, err := v.Check(bg, withAuth("Bearer "+tok))
		if err != nil {
			t.Fatalf("token %d, after its request's buffer was reused: %v", i, err)
		}
		if want := fmt.Sprint(bearertest.CommonAlgorithms[i/3], i%3); c.Subject != want {
			t.Fatalf("token %d read as %q, want %q", i, c.Subject, want)
		}
		if e := last.Load().(bearer.Event); !e.Cached {
			t.Fatalf("token %d was not found in the cache after its request's buffer was reused", i)
		}
		if fromToken[i] != tok {
			t.Fatalf("Token's answer changed with the request's buffer: %.20q", fromToken[i])
		}
	}
	headers := bearer.CachedHeaders(v)
	if len(headers) != len(bearertest.CommonAlgorithms) {
		t.Errorf("the header cache holds %d headers, want one per key", len(headers))
	}
	for _, h := range headers {
		if !slices.ContainsFunc(tokens, func(tok string) bool { return strings.HasPrefix(tok, h+".") }) {
			t.Errorf("the header cache holds %.20q, no token's header", h)
		}
	}

	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	bound := iss.MustMint(t, map[string]any{"scope": "country.read", "cnf": map[string]any{"jkt": key.Thumbprint()}})
	proof := func() string {
		p, err := key.DPoPProof(http.MethodGet, publicURL+"/country", bound, "")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := proof()
	r, scribble := aliased("/country", [2]string{"Authorization", "DPoP " + bound}, [2]string{"DPoP", first})
	if _, err := v.Check(bg, r); err != nil {
		t.Fatal(err)
	}
	scribble()
	_, err = v.Check(bg, dpopRequest("/country", bound, first))
	wantRefusal(t, err, bearer.ErrDPoPProof, 401)
	if _, err := v.Check(bg, dpopRequest("/country", bound, proof())); err != nil {
		t.Fatalf("a fresh proof after the first one's buffer was reused: %v", err)
	}
}
