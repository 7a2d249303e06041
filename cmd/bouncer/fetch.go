package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/bouncer-go/bouncer/core/issuerurl"
)

// The command fetches the issuer's documents itself, to show them: package
// bearer keeps what it fetched to itself. Its verdicts still come from
// package bearer, which fetches them again.

// maxDocument bounds an answer read, as bouncer bounds its own.
const maxDocument = 1 << 20

// document is one answer of the issuer.
type document struct {
	url    string
	body   []byte
	header http.Header
}

// statusError is an answer other than 200.
type statusError struct {
	url    string
	status int
}

func (e *statusError) Error() string { return fmt.Sprintf("GET %s: HTTP %d", e.url, e.status) }

func (c *cli) get(ctx context.Context, u string) (*document, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{url: u, status: resp.StatusCode}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocument))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	return &document{url: u, body: body, header: resp.Header}, nil
}

// issuerMetadata is the part of a discovery document the command shows.
type issuerMetadata struct {
	Issuer        string `json:"issuer"`
	JWKSURI       string `json:"jwks_uri"`
	TokenEndpoint string `json:"token_endpoint"`
	Introspection string `json:"introspection_endpoint"`
}

// discovery is a discovery document and where it was found.
type discovery struct {
	url string
	issuerMetadata
}

// discover reads the issuer's metadata where bouncer looks for it: the
// OpenID Connect location, then on 404 the RFC 8414 one.
func (c *cli) discover(ctx context.Context, issuer string) (*discovery, error) {
	urls, err := issuerurl.DiscoveryURLs(issuer)
	if err != nil {
		return nil, err
	}
	for _, u := range urls {
		var doc *document
		doc, err = c.get(ctx, u)
		var se *statusError
		if errors.As(err, &se) && se.status == http.StatusNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		d := &discovery{url: u}
		if err := json.Unmarshal(doc.body, &d.issuerMetadata); err != nil {
			return nil, fmt.Errorf("%s is not a JSON object: %v", u, err)
		}
		return d, nil
	}
	return nil, err
}

// fetchable applies bouncer's rule to a URL the command is about to send
// a secret to or read keys from: https, or http on a loopback host, or
// anything with --insecure-http.
func fetchable(raw string, insecure bool) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	switch {
	case u.Scheme == "https", u.Scheme == "http" && (insecure || issuerurl.IsLoopback(u.Hostname())):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%s is plain http: bouncer talks to issuers over https only, loopback hosts excepted (--insecure-http overrides)", u.Redacted())
	}
	return fmt.Errorf("%s is neither https nor http", u.Redacted())
}
