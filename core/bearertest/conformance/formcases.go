package conformance

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

const formType = "application/x-www-form-urlencoded"

// queryAndFormCases run against a verifier that accepts tokens in the
// access_token query parameter and form field too (RFC 6750 §2.2, §2.3).
func queryAndFormCases(t *testing.T, iss *bearertest.Issuer) []testCase {
	tok := iss.MustMint(t, map[string]any{"scope": Scope, "client_id": "conformance-client"})
	q := url.Values{"access_token": {tok}}.Encode()
	return []testCase{
		{name: "query token", path: PathScoped, query: q, status: 200},
		{name: "form token", method: http.MethodPost, path: PathScoped, contentType: formType, body: q, status: 200},
		{name: "form token with charset", method: http.MethodPost, path: PathScoped, contentType: formType + "; charset=utf-8", body: q, status: 200},
		{name: "header and query token", path: PathScoped, header: bearerHeader(tok), query: q, status: 400},
		{name: "query token twice", path: PathScoped, query: q + "&" + q, status: 400},
		{name: "query and form token", method: http.MethodPost, path: PathScoped, query: q, contentType: formType, body: q, status: 400},
		{name: "form token twice", method: http.MethodPost, path: PathScoped, contentType: formType, body: q + "&" + q, status: 400},
		{name: "empty query token", path: PathScoped, query: "access_token=", status: 400},
	}
}

// formOnlyCases check that a form token is read from the body alone: some
// frameworks' form helpers merge the URL query into the form.
func formOnlyCases(t *testing.T, iss *bearertest.Issuer) []testCase {
	tok := iss.MustMint(t, map[string]any{"scope": Scope, "client_id": "conformance-client"})
	q := url.Values{"access_token": {tok}}.Encode()
	return []testCase{
		{name: "form token", method: http.MethodPost, path: PathScoped, contentType: formType, body: q, status: 200},
		{name: "token in the URL of a form post", method: http.MethodPost, path: PathScoped, query: q, contentType: formType, body: "other=1", status: 401},
		{name: "query token not enabled", path: PathScoped, query: q, status: 401},
		{name: "form field in a JSON body", method: http.MethodPost, path: PathScoped, contentType: "application/json", body: q, status: 401},
		{name: "form field on GET", path: PathScoped, contentType: formType, body: q, status: 401},
		{name: "unparsable form body", method: http.MethodPost, path: PathScoped, contentType: formType, body: q + "&%zz", status: 401},
	}
}
