// Package bearergrpc protects gRPC services with bearer tokens checked by a
// bearer.Verifier (or any bearer.Checker), and lets gRPC clients send the
// tokens of an oauth2.TokenSource.
//
// On the server, one Interceptor guards every method: the policies of
// WithMethodPolicies for the methods it names, those of
// WithDefaultPolicies (none: any valid token) for the others, no check at
// all for the methods of WithSkip, and optional authentication for those
// of WithOptional.
//
//	auth := bearergrpc.New(v,
//		bearergrpc.WithMethodPolicies(map[string][]bearer.Policy{
//			"/country.v1.CountryService/GetCountry": {bearer.RequireScope("country.read")},
//		}),
//		bearergrpc.WithSkip("/grpc.health.v1.Health/"),
//	)
//	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(auth.Unary), grpc.ChainStreamInterceptor(auth.Stream))
//
// The package only translates: every decision (which token, whether it is
// valid, whether a policy holds, what the refusal says) is made by package
// bearer, so the same call gets the same answer here as the same request
// in the net/http, Gin, Echo and Fiber adapters. The token is read from the
// authorization metadata ("Bearer <token>"); a refusal is the gRPC status
// of the HTTP answer (Unauthenticated, PermissionDenied, InvalidArgument,
// Unavailable) with its description as the message, and the RFC 6750
// challenge in a www-authenticate trailer (see Interceptor.Refuse).
//
// Sender-constrained tokens work as over HTTP. A gRPC call is an HTTP/2
// POST to its full method name, so a DPoP client proves
// htm "POST" and htu "https://host:port/package.Service/Method": set
// bearer.DPoP.PublicURL to the origin clients dial (the path comes from
// the call, never the :authority). A token bound to a TLS client
// certificate (cnf.x5t#S256) is checked against the certificate the
// client authenticated the connection with, which the server's TLS
// transport credentials (credentials.NewTLS with ClientAuth asking for
// one) hand to the interceptor; the conformance suite runs both, and
// every other case a call can carry, over gRPC.
package bearergrpc

import (
	"context"
	"errors"
	"maps"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// ErrorHandler turns a refusal into the error the call fails with. err is a
// *bearer.Error; ctx is the call's, for grpc.SetTrailer.
type ErrorHandler func(ctx context.Context, err error) error

// Interceptor guards the methods of a gRPC server with one verifier.
type Interceptor struct {
	checker  bearer.Checker
	onError  ErrorHandler
	policies map[string][]bearer.Policy
	defaults []bearer.Policy
	skip     map[string]bool
	optional map[string]bool
}

// Option configures an Interceptor.
//
// Options that name methods take full method names, "/pkg.Service/Method",
// as gRPC passes them to interceptors; a name ending in "/",
// "/pkg.Service/", names every method of the service. In
// WithMethodPolicies a method's own entry wins over its service's.
type Option func(*Interceptor)

// WithMethodPolicies sets the policies of the methods named in m. They
// replace the default policies for those methods rather than add to them,
// so that what a method needs is read in one place. A misspelt name falls
// to the default: key the map with the constants protoc-gen-go-grpc
// generates, such as CountryService_GetCountry_FullMethodName.
func WithMethodPolicies(m map[string][]bearer.Policy) Option {
	return func(i *Interceptor) { maps.Copy(i.policies, m) }
}

// WithDefaultPolicies sets the policies of the methods WithMethodPolicies
// does not name. Without it they need any valid token.
func WithDefaultPolicies(policies ...bearer.Policy) Option {
	return func(i *Interceptor) { i.defaults = policies }
}

// WithSkip lets calls to the named methods through unchecked, without
// claims, whatever the other options say of them: health checks,
// reflection.
func WithSkip(methods ...string) Option {
	return func(i *Interceptor) { add(i.skip, methods) }
}

// WithOptional makes authentication optional for the named methods: a call
// without any token reaches the handler without claims, while a call whose
// token is bad, or lacks the method's policies, is still refused. Handlers
// tell the two apart with Claims.
func WithOptional(methods ...string) Option {
	return func(i *Interceptor) { add(i.optional, methods) }
}

// WithErrorHandler replaces the default answer to refused calls,
// Interceptor.Refuse.
func WithErrorHandler(h ErrorHandler) Option {
	return func(i *Interceptor) { i.onError = h }
}

func add(set map[string]bool, methods []string) {
	for _, m := range methods {
		if m != "" {
			set[m] = true
		}
	}
}

// New returns interceptors that check calls with c, usually a
// *bearer.Verifier. It panics if c is nil: a missing verifier is a bug to
// stop at start, not at the first call.
func New(c bearer.Checker, opts ...Option) *Interceptor {
	if err := bearer.CheckerError(c); err != nil {
		panic("bearergrpc: New: " + err.Error())
	}
	i := &Interceptor{
		checker:  c,
		policies: map[string][]bearer.Policy{},
		skip:     map[string]bool{},
		optional: map[string]bool{},
	}
	i.onError = i.Refuse
	for _, o := range opts {
		o(i)
	}
	return i
}

// Unary is the grpc.UnaryServerInterceptor: grpc.ChainUnaryInterceptor(auth.Unary).
func (i *Interceptor) Unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, err := i.check(ctx, info.FullMethod)
	if err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

// Stream is the grpc.StreamServerInterceptor: grpc.ChainStreamInterceptor(auth.Stream).
// The handler's stream returns the context with the claims.
func (i *Interceptor) Stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, err := i.check(ss.Context(), info.FullMethod)
	if err != nil {
		return err
	}
	if ctx != ss.Context() {
		ss = &serverStream{ServerStream: ss, ctx: ctx}
	}
	return handler(srv, ss)
}

// check judges a call to method, returning the context for the handler:
// ctx with the claims, ctx itself for a skipped method or an optional one
// called without a token, or the error the call fails with.
func (i *Interceptor) check(ctx context.Context, method string) (context.Context, error) {
	if lookup(i.skip, method) {
		return ctx, nil
	}
	policies, ok := i.policies[method]
	if !ok {
		if policies, ok = i.policies[service(method)]; !ok {
			policies = i.defaults
		}
	}
	q := newRequest(ctx, method)
	claims, err := i.checker.Check(ctx, q, policies...)
	q.release()
	switch {
	case err == nil:
		if h := bearer.AcceptHeaderOf(i.checker); h != nil {
			md := metadata.MD{}
			for k, v := range h {
				md.Set(k, v...)
			}
			_ = grpc.SetHeader(ctx, md) // the DPoP-Nonce to use next
		}
		return bearer.NewContext(ctx, claims), nil
	case errors.Is(err, bearer.ErrMissingToken) && lookup(i.optional, method):
		return ctx, nil
	}
	return nil, i.onError(ctx, err)
}

// lookup reports whether set names method or its service.
func lookup(set map[string]bool, method string) bool {
	return set[method] || set[service(method)]
}

// service is the service part of a full method name, with its trailing
// slash: "/pkg.Service/" for "/pkg.Service/Method".
func service(method string) string {
	return method[:strings.LastIndexByte(method, '/')+1]
}

// serverStream is a grpc.ServerStream whose context carries the claims.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *serverStream) Context() context.Context { return s.ctx }

// Claims returns the claims of the call's verified token: a copy of its
// own for each call of Claims (see bearer.Claims), so that nothing the
// handler does to them reaches another call.
func Claims(ctx context.Context) (*bearer.Claims, bool) { return bearer.FromContext(ctx) }
