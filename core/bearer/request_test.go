package bearer_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
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
