package bearerconnect

import (
	"context"
	"crypto/x509"
	"net/http"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
)

// request is a Connect call as a bearer.Request: the headers of its
// connect.CallInfo and, when it is served over HTTP (connecthttp), the
// method, path and TLS connection of the HTTP request. A call has no form
// body, and the URL query of a Connect GET is its message, so neither is
// a token source. Under a transport other than HTTP (connectinprocess) a
// call is a POST to its procedure without a certificate.
type request struct {
	header    *connect.Header         // nil without a CallInfo
	http      *connecthttp.ServerInfo // nil outside HTTP; its methods are nil-safe
	procedure string
}

func newRequest(ctx context.Context, procedure string) request {
	r := request{procedure: procedure}
	if info, ok := connect.CallInfoForServerContext(ctx); ok {
		r.header = info.RequestHeader()
	}
	r.http, _ = connecthttp.ServerInfoForContext(ctx)
	return r
}

// Header matches names without regard to case, as connect.Header does.
func (r request) Header(name string) []string { return r.header.Values(name) }

func (r request) Query(string) []string { return nil }
func (r request) Form(string) []string  { return nil }

func (r request) Method() string {
	if m := r.http.HTTPMethod(); m != "" {
		return m
	}
	return http.MethodPost
}

// Path is the escaped path of the HTTP request, which connecthttp routes
// by procedure, or the procedure itself.
func (r request) Path() string {
	if r.http != nil {
		u := r.http.RequestURL()
		if p := u.EscapedPath(); p != "" {
			return p
		}
	}
	return r.procedure
}

// ClientCertificate is the certificate the client authenticated the TLS
// connection with.
func (r request) ClientCertificate() *x509.Certificate {
	st := r.http.TLS()
	if st == nil || len(st.PeerCertificates) == 0 {
		return nil
	}
	return st.PeerCertificates[0]
}
