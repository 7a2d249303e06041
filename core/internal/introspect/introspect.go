// Package introspect asks an OAuth 2.0 authorization server about a token
// (RFC 7662): a form POST of the token, authenticated as the resource
// server's own client, answered with a JSON object.
//
// Only the exchange is here; what the answer means is decided by package
// bearer, which reads it like a token's claims.
package introspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// MaxAnswerBytes bounds an answer: real ones are well under a kilobyte.
const MaxAnswerBytes = 64 << 10

// Client calls one introspection endpoint.
type Client struct {
	HTTP   *http.Client
	URL    string
	ID     string
	Secret string
	// Post sends the credentials in the form body (client_secret_post)
	// rather than with HTTP Basic (client_secret_basic).
	Post bool
}

// Introspect posts token and returns the answer's body. Anything but a 200
// answer with a JSON content type and a body within MaxAnswerBytes is an
// error: the server could not say, which is not the same as saying no.
func (c *Client) Introspect(ctx context.Context, token string) ([]byte, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	if c.Post {
		form.Set("client_id", c.ID)
		form.Set("client_secret", c.Secret)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if !c.Post {
		// RFC 6749 §2.3.1: the client ID and secret are form-encoded
		// before they go into Basic, as golang.org/x/oauth2 sends them;
		// a secret holding ':', '+', '%' or '&' survives the trip.
		req.SetBasicAuth(url.QueryEscape(c.ID), url.QueryEscape(c.Secret))
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("introspection: reading the answer: %w", err)
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		return nil, &StatusError{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After")}
	case len(body) > MaxAnswerBytes:
		return nil, fmt.Errorf("introspection: answer larger than %d bytes", MaxAnswerBytes)
	case !isJSON(resp.Header.Get("Content-Type")):
		return nil, errors.New("introspection: the answer is not JSON")
	}
	return body, nil
}

// StatusError is an answer other than 200.
type StatusError struct {
	Status     int
	RetryAfter string
}

func (e *StatusError) Error() string { return fmt.Sprintf("introspection: HTTP %d", e.Status) }

func isJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}
