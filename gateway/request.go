package gateway

import (
	"crypto/x509"
	"net/http"
	"net/url"
	"strings"
)

// original is the request a proxy asks about, rebuilt from what the proxy
// sent, as package bearer reads requests: the method, path, query and
// headers are the original request's, so that the token is found where
// the client put it and a DPoP proof is checked against the URL the
// client called (RFC 9449 htm and htu).
type original struct {
	method   string
	host     string // the Host the client called, without port, lower case
	path     string // escaped, as the client sent it
	rawQuery string
	headers  headerSource

	// origin is what the DPoP check reads as X-Forwarded-Proto and
	// X-Forwarded-Host: the public origin the client wrote in its proof,
	// from the configuration or the trusted proxy; empty when unknown.
	proto, fwdHost string
	// pathPrefix is the path of a configured public URL, which the proxy
	// removed before the request reached it.
	pathPrefix string

	query url.Values
	form  func(name string) []string
	cert  func() *x509.Certificate
}

// headerSource gives a header's values.
type headerSource interface {
	values(name string) []string
}

// httpHeaders are a net/http request's headers.
type httpHeaders http.Header

func (h httpHeaders) values(name string) []string { return http.Header(h).Values(name) }

func (o *original) Header(name string) []string {
	switch http.CanonicalHeaderKey(name) {
	case "X-Forwarded-Proto":
		return nonEmpty(o.proto)
	case "X-Forwarded-Host":
		return nonEmpty(o.fwdHost)
	}
	return o.headers.values(name)
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// Query reads the original query as net/http does: a malformed pair is
// skipped, the rest kept.
func (o *original) Query(name string) []string {
	if o.query == nil {
		o.query, _ = url.ParseQuery(o.rawQuery)
	}
	return o.query[name]
}

func (o *original) Method() string { return o.method }

// Path is the path the client sent, behind the public URL's own path, if
// any: what its DPoP proof's htu names.
func (o *original) Path() string { return o.pathPrefix + o.path }

// Form reads the original form body, when the proxy forwarded it
// (Traefik's forwardBody, Envoy's with_request_body); nginx and Caddy
// send none, and a form token then counts as absent.
func (o *original) Form(name string) []string {
	if o.form == nil {
		return nil
	}
	return o.form(name)
}

func (o *original) ClientCertificate() *x509.Certificate {
	if o.cert == nil {
		return nil
	}
	return o.cert()
}

// splitURI splits a request target into its escaped path and query. A
// fragment is never part of a request target; one is refused by the path
// check with the rest.
func splitURI(uri string) (path, query string) {
	if u, err := url.Parse(uri); err == nil && u.IsAbs() {
		uri = u.RequestURI()
	}
	path, query, _ = strings.Cut(uri, "?")
	return path, query
}
