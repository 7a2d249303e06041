// Package bearerconnect protects Connect RPC services
// (connectrpc.com/connect/v2) with bearer tokens checked by a
// bearer.Verifier (or any bearer.Checker). One server interceptor guards
// every procedure of a connect.Server, for its Connect, gRPC and gRPC-Web
// clients alike: the policies of WithProcedurePolicies for the procedures
// it names, those of WithDefaultPolicies (none: any valid token) for the
// others, no check at all for the procedures of WithSkip, and optional
// authentication for those of WithOptional.
//
//	auth := bearerconnect.New(v,
//		bearerconnect.WithProcedurePolicies(map[string][]bearer.Policy{
//			countrypbconnect.CountryServiceGetCountryProcedure: {bearer.RequireScope("country.read")},
//		}),
//		bearerconnect.WithSkip("/grpc.health.v1.Health/"),
//	)
//	server := connect.NewServer(auth.Intercept)
//	countrypbconnect.RegisterCountryServiceHandler(server, svc)
//	connecthttp.Mount(mux, server)
//
// The package only translates: every decision (which token, whether it is
// valid, whether a policy holds, what the refusal says) is made by package
// bearer, so the same call gets the same answer here as the same request
// in the net/http adapter, and as the same call to a gRPC server guarded
// by bearergrpc. A refusal is the Connect error of the HTTP answer
// (unauthenticated, permission_denied, invalid_argument, unavailable) with
// its description as the message, and the RFC 6750 challenge in
// WWW-Authenticate (see Interceptor.Refuse). Over the Connect protocol a
// unary refusal is then an HTTP 401, 403, 400 or 503 whose
// WWW-Authenticate is the one the net/http adapter sends.
//
// Connect serves over net/http, so the call package bearer judges is the
// HTTP request itself: its headers, its method (POST, or GET for a Connect
// GET of a side-effect-free procedure), its path (the procedure) and the
// client certificate of its TLS connection. DPoP proofs are therefore made
// for the call's real method and URL, https://host/package.Service/Method
// (configure bearer.DPoP.PublicURL with the origin clients call, and any
// path prefix a proxy strips), and certificate-bound tokens are checked
// against the certificate the client authenticated the connection with.
// Tokens are read from headers only (Authorization, Config.TokenHeader,
// Config.TokenCookie): an RPC has no form body, and the query of a
// Connect GET is its message, not a place for credentials.
//
// # Why connect v2
//
// The package is built on connectrpc.com/connect/v2, the current major
// version of Connect for Go, whose generator, protoc-gen-connect-go from
// the v2 module, produces code that registers services on a
// connect.Server. Its server interceptors surround the whole call and run
// before any payload work: a refused call costs the server its headers
// and nothing of its message, which is never read, decompressed or
// decoded. They also see the HTTP request through connecthttp.ServerInfo,
// TLS state included. Connect v1's interceptors receive a message already
// read and decoded, and see no TLS state, which is why authentication for
// v1 had to be HTTP middleware; services still on v1 move to v2 with
// connect-go-v2-migrate before they can use this package.
//
// Clients send their tokens with an HTTP client that adds them, such as
// oauth2.NewClient(ctx, tokenSource) of golang.org/x/oauth2, passed to
// connecthttp.NewTransport.
package bearerconnect

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"connectrpc.com/connect/v2"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// ErrorHandler turns a refusal into the error the call fails with. err is
// a *bearer.Error; ctx is the call's, whose connect.CallInfo takes the
// response headers and trailers. Return a *connect.Error: Connect sends
// any other error as a bare unknown code.
type ErrorHandler func(ctx context.Context, err error) error

// Interceptor guards the procedures of a connect.Server with one verifier.
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
// Options that name procedures take them as Connect does,
// "/package.Service/Method" (the generated ...Procedure constants); a name
// ending in "/", "/package.Service/", names every procedure of the
// service. In WithProcedurePolicies a procedure's own entry wins over its
// service's.
type Option func(*Interceptor)

// WithProcedurePolicies sets the policies of the procedures named in m.
// They replace the default policies for those procedures rather than add
// to them, so that what a procedure needs is read in one place. A
// misspelt name falls to the default: key the map with the constants
// protoc-gen-connect-go generates, such as
// CountryServiceGetCountryProcedure.
func WithProcedurePolicies(m map[string][]bearer.Policy) Option {
	return func(i *Interceptor) { maps.Copy(i.policies, m) }
}

// WithDefaultPolicies sets the policies of the procedures
// WithProcedurePolicies does not name. Without it they need any valid
// token.
func WithDefaultPolicies(policies ...bearer.Policy) Option {
	return func(i *Interceptor) { i.defaults = policies }
}

// WithSkip lets calls to the named procedures through unchecked, without
// claims, whatever the other options say of them: health checks,
// reflection.
func WithSkip(procedures ...string) Option {
	return func(i *Interceptor) { add(i.skip, procedures) }
}

// WithOptional makes authentication optional for the named procedures: a
// call without any token reaches the handler without claims, while a call
// whose token is bad, or lacks the procedure's policies, is still refused.
// Handlers tell the two apart with Claims.
func WithOptional(procedures ...string) Option {
	return func(i *Interceptor) { add(i.optional, procedures) }
}

// WithErrorHandler replaces the default answer to refused calls,
// Interceptor.Refuse.
func WithErrorHandler(h ErrorHandler) Option {
	return func(i *Interceptor) { i.onError = h }
}

func add(set map[string]bool, procedures []string) {
	for _, p := range procedures {
		if p != "" {
			set[p] = true
		}
	}
}

// New returns an interceptor that checks calls with c, usually a
// *bearer.Verifier. It panics if c is nil: a missing verifier is a bug to
// stop at start, not at the first call.
func New(c bearer.Checker, opts ...Option) *Interceptor {
	if err := bearer.CheckerError(c); err != nil {
		panic("bearerconnect: New: " + err.Error())
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

// Intercept is the connect.ServerInterceptor: connect.NewServer(auth.Intercept).
// It judges a call of any stream type from its headers before the
// handler, or Connect, reads a message, and hands the handler a context
// with the claims.
func (i *Interceptor) Intercept(next connect.ServerFunc) connect.ServerFunc {
	return func(ctx context.Context, spec connect.Spec, stream connect.ServerStream) error {
		ctx, err := i.check(ctx, spec.Procedure)
		if err != nil {
			return err
		}
		return next(ctx, spec, stream)
	}
}

// check judges a call to procedure, returning the context for the
// handler: ctx with the claims, ctx itself for a skipped procedure or an
// optional one called without a token, or the error the call fails with.
func (i *Interceptor) check(ctx context.Context, procedure string) (context.Context, error) {
	if lookup(i.skip, procedure) {
		return ctx, nil
	}
	policies, ok := i.policies[procedure]
	if !ok {
		if policies, ok = i.policies[service(procedure)]; !ok {
			policies = i.defaults
		}
	}
	claims, err := i.checker.Check(ctx, newRequest(ctx, procedure), policies...)
	switch {
	case err == nil:
		if h := bearer.AcceptHeaderOf(i.checker); h != nil {
			if info, ok := connect.CallInfoForServerContext(ctx); ok {
				for k, v := range h {
					info.ResponseHeader().SetValues(k, slices.Clone(v)) // the DPoP-Nonce to use next
				}
			}
		}
		return bearer.NewContext(ctx, claims), nil
	case errors.Is(err, bearer.ErrMissingToken) && lookup(i.optional, procedure):
		return ctx, nil
	}
	return nil, i.onError(ctx, err)
}

// lookup reports whether set names procedure or its service.
func lookup(set map[string]bool, procedure string) bool {
	return set[procedure] || set[service(procedure)]
}

// service is the service part of a procedure, with its trailing slash:
// "/package.Service/" for "/package.Service/Method"; "" for a name
// without a slash.
func service(procedure string) string {
	return procedure[:strings.LastIndexByte(procedure, '/')+1]
}

// Claims returns the claims of the call's verified token: a copy of its
// own for each call of Claims (see bearer.Claims), so that nothing the
// handler does to them reaches another call.
func Claims(ctx context.Context) (*bearer.Claims, bool) { return bearer.FromContext(ctx) }
