package bearerconnect

import (
	"context"
	"net/http"
	"slices"

	"connectrpc.com/connect/v2"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// answerHeaders are the headers of package bearer's answer that mean
// something to an RPC client. The others describe the HTTP body, which a
// refused call does not have.
var answerHeaders = []string{"WWW-Authenticate", "Retry-After", "DPoP-Nonce"}

// Refuse is the default ErrorHandler: the Connect error of package
// bearer's answer to err, with the error's description as the message and
// err as its cause (for errors.Is in other interceptors; a cause is never
// sent), and the answer's WWW-Authenticate challenge (and Retry-After, when
// the issuer is unavailable, and DPoP-Nonce, when a DPoP proof needs the
// server's nonce) as response headers, whatever the protocol. Over the
// Connect protocol a unary refusal is then an HTTP 401, 403, 400 or 503
// that carries them as the HTTP adapters do. Over gRPC and gRPC-Web they
// are response headers too, where bearergrpc's trailers-only refusals
// carry them with the status: net/http cannot send a trailers-only
// answer, and refuses WWW-Authenticate as a trailer (RFC 9110 §6.5.1: a
// field needed to process the message does not belong in trailers).
func (i *Interceptor) Refuse(ctx context.Context, err error) error {
	resp := i.checker.Response(err)
	if info, ok := connect.CallInfoForServerContext(ctx); ok {
		for _, name := range answerHeaders {
			if v := resp.Header.Values(name); len(v) > 0 {
				info.ResponseHeader().SetValues(name, slices.Clone(v))
			}
		}
	}
	return connect.NewError(code(resp.Status), bearer.AsError(err).Description).WithCause(err)
}

// code is the Connect code for an HTTP status of package bearer.
func code(httpStatus int) connect.Code {
	switch httpStatus {
	case http.StatusBadRequest:
		return connect.CodeInvalidArgument
	case http.StatusUnauthorized:
		return connect.CodeUnauthenticated
	case http.StatusForbidden:
		return connect.CodePermissionDenied
	case http.StatusServiceUnavailable:
		return connect.CodeUnavailable
	}
	return connect.CodeUnknown
}
