package bearerconnect

import (
	"context"
	"crypto/x509"
	"net/http"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// call is a Connect call as a bearer.Request: the headers of its
// connect.CallInfo and, when it is served over HTTP (connecthttp), the
// method, path and TLS connection of the HTTP request. A call has no form
// body, and the URL query of a Connect GET is its message, so neither is
// a token source. Under a transport other than HTTP (connectinprocess) a
// call is a POST to its procedure without a certificate.
//
// It is the CallInfo Connect made for the call, so that handing it to
// bearer costs no allocation; a call without one, or whose CallInfo does
// not name its procedure where its path must come from, is an
// unboundCall.
type call connect.CallInfo

// newRequest is the call to procedure that ctx is the server context of.
func newRequest(ctx context.Context, procedure string) bearer.Request {
	info, ok := connect.CallInfoForServerContext(ctx)
	if !ok {
		return &unboundCall{procedure: procedure}
	}
	c := (*call)(info)
	if c.http() == nil && info.Spec.Procedure != procedure {
		return &unboundCall{header: info.RequestHeader(), procedure: procedure}
	}
	return c
}

func (c *call) info() *connect.CallInfo { return (*connect.CallInfo)(c) }

// http is the HTTP request's side of the call, or nil outside HTTP; its
// methods are nil-safe.
func (c *call) http() *connecthttp.ServerInfo {
	s, _ := c.TransportInfo.(*connecthttp.ServerInfo)
	return s
}

// Header matches names without regard to case, as connect.Header does.
func (c *call) Header(name string) []string { return c.info().RequestHeader().Values(name) }

func (c *call) Query(string) []string { return nil }
func (c *call) Form(string) []string  { return nil }

func (c *call) Method() string {
	if m := c.http().HTTPMethod(); m != "" {
		return m
	}
	return http.MethodPost
}

// Path is the escaped path of the HTTP request, which connecthttp routes
// by procedure, or the procedure itself.
func (c *call) Path() string {
	if s := c.http(); s != nil {
		u := s.RequestURL()
		if p := u.EscapedPath(); p != "" {
			return p
		}
	}
	return c.Spec.Procedure
}

// ClientCertificate is the certificate the client authenticated the TLS
// connection with.
func (c *call) ClientCertificate() *x509.Certificate {
	st := c.http().TLS()
	if st == nil || len(st.PeerCertificates) == 0 {
		return nil
	}
	return st.PeerCertificates[0]
}

// unboundCall is a call outside HTTP whose CallInfo, if any, does not name
// its procedure: a POST to procedure, with the CallInfo's headers.
type unboundCall struct {
	header    *connect.Header // nil without a CallInfo
	procedure string
}

func (u *unboundCall) Header(name string) []string          { return u.header.Values(name) }
func (u *unboundCall) Query(string) []string                { return nil }
func (u *unboundCall) Form(string) []string                 { return nil }
func (u *unboundCall) Method() string                       { return http.MethodPost }
func (u *unboundCall) Path() string                         { return u.procedure }
func (u *unboundCall) ClientCertificate() *x509.Certificate { return nil }
