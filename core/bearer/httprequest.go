package bearer

import (
	"crypto/x509"
	"net/http"
)

// HTTPRequest is r as a Request: what every adapter over net/http (the
// net/http, Gin and Echo ones, or an application's own) hands to Check.
func HTTPRequest(r *http.Request) Request { return httpRequest{r} }

type httpRequest struct{ r *http.Request }

// Header is r.Header.Values(name). The Authorization header, read on every
// request, is looked up as it is: its name is canonical already, and
// checking that costs more than the lookup.
func (q httpRequest) Header(name string) []string {
	if name == "Authorization" {
		return q.r.Header["Authorization"]
	}
	return q.r.Header.Values(name)
}

func (q httpRequest) Query(name string) []string { return q.r.URL.Query()[name] }
func (q httpRequest) Method() string             { return q.r.Method }
func (q httpRequest) Path() string               { return q.r.URL.EscapedPath() }

// Form reads the body's fields only: r.Form, and the form helpers of Gin
// and Echo, also hold the URL query's, which would let an access_token in
// the URL pass as a form token even when query tokens are not allowed.
func (q httpRequest) Form(name string) []string {
	if err := q.r.ParseForm(); err != nil {
		return nil
	}
	return q.r.PostForm[name]
}

func (q httpRequest) ClientCertificate() *x509.Certificate {
	if q.r.TLS == nil || len(q.r.TLS.PeerCertificates) == 0 {
		return nil
	}
	return q.r.TLS.PeerCertificates[0]
}
