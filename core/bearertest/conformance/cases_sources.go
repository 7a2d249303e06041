package conformance

import (
	"net/http"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// The other token sources the "header and cookie tokens" verifier reads.
const (
	TokenHeader = "X-Access-Token"
	TokenCookie = "access_token"
)

// sourceCases run against a verifier that also reads the token from
// TokenHeader and from the TokenCookie cookie: each alone works, and two
// tokens are one too many.
func sourceCases(t *testing.T, iss *bearertest.Issuer) []testCase {
	tok := iss.MustMint(t, map[string]any{"scope": Scope, "client_id": "conformance-client"})
	cookie := func(values ...string) http.Header {
		h := http.Header{}
		for _, v := range values {
			h.Add("Cookie", TokenCookie+"="+v)
		}
		return h
	}
	both := cookie(tok)
	both.Set("Authorization", "Bearer "+tok)
	headerAndCookie := cookie(tok)
	headerAndCookie.Set(TokenHeader, tok)
	return []testCase{
		{name: "Authorization still read", path: PathScoped, header: bearerHeader(tok), status: 200},
		{name: "token header", path: PathScoped, header: http.Header{TokenHeader: {tok}}, status: 200},
		{name: "token cookie", path: PathScoped, header: cookie(tok), status: 200},
		{name: "token cookie among others", path: PathScoped, header: http.Header{"Cookie": {"theme=dark; " + TokenCookie + "=" + tok + "; lang=en"}}, status: 200},
		{name: "cookie and Authorization", path: PathScoped, header: both, status: 400},
		{name: "header and cookie", path: PathScoped, header: headerAndCookie, status: 400},
		{name: "cookie twice", path: PathScoped, header: http.Header{"Cookie": {TokenCookie + "=" + tok + "; " + TokenCookie + "=" + tok}}, status: 400},
		{name: "empty cookie", path: PathScoped, header: cookie(""), status: 400},
		{name: "bad token in the header", path: PathScoped, header: http.Header{TokenHeader: {"not-a-token"}}, status: 401},
		{name: "optional, no token in any source", path: PathOptional, status: 200},
	}
}
