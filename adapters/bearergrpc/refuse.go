package bearergrpc

import (
	"context"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// trailers are the headers of package bearer's answer that mean something
// to a gRPC client. The others describe the HTTP body, which a gRPC
// refusal does not have.
var trailers = []string{"WWW-Authenticate", "Retry-After", "DPoP-Nonce"}

// Refuse is the default ErrorHandler: the gRPC status of package bearer's
// answer to err, with the error's description as the message, and the
// answer's WWW-Authenticate challenge (and Retry-After, when the issuer is
// unavailable, and DPoP-Nonce, when a DPoP proof needs the server's nonce)
// as www-authenticate, retry-after and dpop-nonce trailers.
func (i *Interceptor) Refuse(ctx context.Context, err error) error {
	resp := i.checker.Response(err)
	md := metadata.MD{}
	for _, name := range trailers {
		if v := resp.Header.Values(name); len(v) > 0 {
			md.Set(name, v...)
		}
	}
	// SetTrailer fails only outside a server call, where there is no one
	// to send trailers to.
	_ = grpc.SetTrailer(ctx, md)
	return status.Error(code(resp.Status), bearer.AsError(err).Description)
}

// code is the gRPC code for an HTTP status of package bearer.
func code(httpStatus int) codes.Code {
	switch httpStatus {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusForbidden:
		return codes.PermissionDenied
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	return codes.Unknown
}
