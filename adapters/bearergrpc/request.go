package bearergrpc

import (
	"context"
	"crypto/x509"
	"net/http"
	"strings"
	"sync"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
)

// request is a gRPC call as a bearer.Request. Metadata stands for the
// headers: gRPC lower-cases its keys, and Header matches them without
// regard to case, as HTTP does. A call has no URL query and no form body;
// over HTTP/2 it is a POST to the full method name.
//
// Requests come from a pool: package bearer uses a Request only while
// Check runs, and a call judged costs no allocation for it.
type request struct {
	ctx    context.Context
	method string
}

var requests = sync.Pool{New: func() any { return new(request) }}

// newRequest takes a request for the call to method from the pool;
// release returns it.
func newRequest(ctx context.Context, method string) *request {
	q := requests.Get().(*request)
	q.ctx, q.method = ctx, method
	return q
}

// release forgets the call and pools the request.
func (r *request) release() {
	*r = request{}
	requests.Put(r)
}

func (r *request) Header(name string) []string {
	return metadata.ValueFromIncomingContext(r.ctx, metadataKey(name))
}

// metadataKey is name lower-cased, as gRPC metadata keys are, without a
// copy for the names bearer asks for on every call.
func metadataKey(name string) string {
	switch name {
	case "Authorization":
		return "authorization"
	case "Dpop":
		return "dpop"
	}
	return strings.ToLower(name)
}

func (r *request) Query(string) []string { return nil }
func (r *request) Form(string) []string  { return nil }
func (r *request) Method() string        { return http.MethodPost }
func (r *request) Path() string          { return r.method }

// ClientCertificate is the certificate the client authenticated the
// connection with, when the server's transport credentials are TLS.
func (r *request) ClientCertificate() *x509.Certificate {
	p, ok := peer.FromContext(r.ctx)
	if !ok {
		return nil
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		return nil
	}
	return info.State.PeerCertificates[0]
}
