package bearer_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func TestResponse(t *testing.T) {
	cases := []struct {
		name       string
		err        error
		status     int
		challenge  string
		body       string
		retryAfter string
	}{
		{
			"no credentials: realm, no error code (RFC 6750 §3.1)",
			&bearer.Error{Err: bearer.ErrMissingToken, Description: "the request carries no bearer token"},
			401, `Bearer realm="country-api"`,
			`{"error_description":"the request carries no bearer token"}`, "",
		},
		{
			"invalid_request",
			&bearer.Error{Code: bearer.CodeInvalidRequest, Err: bearer.ErrInvalidRequest, Description: "two tokens"},
			400, `Bearer realm="country-api", error="invalid_request", error_description="two tokens"`,
			`{"error":"invalid_request","error_description":"two tokens"}`, "",
		},
		{
			"invalid_token",
			&bearer.Error{Code: bearer.CodeInvalidToken, Err: bearer.ErrExpired, Description: "the token expired at 2026-01-01T00:00:00Z"},
			401, `Bearer realm="country-api", error="invalid_token", error_description="the token expired at 2026-01-01T00:00:00Z"`,
			`{"error":"invalid_token","error_description":"the token expired at 2026-01-01T00:00:00Z"}`, "",
		},
		{
			"insufficient_scope names the scope",
			&bearer.Error{Code: bearer.CodeInsufficientScope, Err: bearer.ErrInsufficientScope, Description: "lacks", Scope: []string{"country.read", "country.write"}},
			403, `Bearer realm="country-api", error="insufficient_scope", error_description="lacks", scope="country.read country.write"`,
			`{"error":"insufficient_scope","error_description":"lacks"}`, "",
		},
		{
			"issuer unavailable is 503 with Retry-After, no challenge",
			&bearer.Error{Err: bearer.ErrIssuerUnavailable, Description: "down", RetryAfter: 1500 * time.Millisecond},
			503, "", `{"error":"temporarily_unavailable","error_description":"down"}`, "2",
		},
		{
			"quotes and backslashes never reach the header",
			&bearer.Error{Code: bearer.CodeInvalidToken, Err: bearer.ErrMalformed, Description: "a \"b\" \\c\nd"},
			401, `Bearer realm="country-api", error="invalid_token", error_description="a ?b? ?c?d"`, "", "",
		},
		{
			"a foreign error was not a judgement: 503",
			fmt.Errorf("context canceled"),
			503, "", "", "1",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := bearer.ResponseFor(tc.err, "country-api")
			if r.Status != tc.status {
				t.Errorf("status = %d; want %d", r.Status, tc.status)
			}
			if got := r.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Errorf("WWW-Authenticate = %q; want %q", got, tc.challenge)
			}
			if tc.body != "" && string(r.Body) != tc.body {
				t.Errorf("body = %s; want %s", r.Body, tc.body)
			}
			if got := r.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q; want %q", got, tc.retryAfter)
			}
			if r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("headers = %v", r.Header)
			}
		})
	}
}

func TestErrorIsAndAs(t *testing.T) {
	var err error = &bearer.Error{Code: bearer.CodeInvalidToken, Err: bearer.ErrAudience, Description: "not for us"}
	wrapped := fmt.Errorf("handler: %w", err)
	if !errors.Is(wrapped, bearer.ErrAudience) || errors.Is(wrapped, bearer.ErrIssuer) {
		t.Fatal("errors.Is does not see the sentinel")
	}
	var e *bearer.Error
	if !errors.As(wrapped, &e) || e.StatusCode() != http.StatusUnauthorized {
		t.Fatal("errors.As does not find the *Error")
	}
	if e.Error() != "bearer: wrong audience: not for us" {
		t.Fatalf("Error() = %q", e.Error())
	}
}
