// Package bearerhttp protects net/http handlers with bearer tokens checked
// by a bearer.Verifier (or any bearer.Checker). It works with anything that
// takes func(http.Handler) http.Handler: http.ServeMux, chi, gorilla/mux.
//
// The package only translates: every decision (which token, whether it is
// valid, whether a policy holds, what the refusal looks like) is made by
// package bearer, so the same request gets the same answer here as in the
// Gin, Echo, Fiber and gRPC adapters.
package bearerhttp

import (
	"errors"
	"net/http"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// ErrorWriter answers a refused request. err is a *bearer.Error.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Middleware guards handlers with one verifier.
type Middleware struct {
	checker  bearer.Checker
	onError  ErrorWriter
	skip     func(*http.Request) bool
	optional bool
}

// Option configures a Middleware.
type Option func(*Middleware)

// WithErrorWriter replaces the default answer to refused requests.
func WithErrorWriter(ew ErrorWriter) Option {
	return func(m *Middleware) { m.onError = ew }
}

// WithSkip lets requests for which skip reports true through unchecked,
// without claims (health checks, metadata documents).
func WithSkip(skip func(*http.Request) bool) Option {
	return func(m *Middleware) { m.skip = skip }
}

// WithOptional makes authentication optional: a request without any token
// reaches the handler without claims, while a request whose token is bad
// is still refused. Handlers tell the two apart with Claims.
func WithOptional() Option {
	return func(m *Middleware) { m.optional = true }
}

// New returns middleware that checks requests with c, usually a
// *bearer.Verifier. It panics if c is nil: a missing verifier is a bug to
// stop at start, not at the first request.
func New(c bearer.Checker, opts ...Option) *Middleware {
	if err := bearer.CheckerError(c); err != nil {
		panic("bearerhttp: New: " + err.Error())
	}
	m := &Middleware{checker: c}
	m.onError = m.WriteError
	for _, o := range opts {
		o(m)
	}
	return m
}

// Authenticate lets through requests with a valid token and puts its claims
// in the request's context (see bearer.FromContext).
func (m *Middleware) Authenticate(next http.Handler) http.Handler {
	return m.Require()(next)
}

// Require returns middleware that authenticates the request (unless an
// earlier middleware of the same verifier did) and then applies every
// policy.
func (m *Middleware) Require(policies ...bearer.Policy) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if m.skip != nil && m.skip(r) {
				next.ServeHTTP(w, r)
				return
			}
			c, err := m.checker.Check(r.Context(), bearer.HTTPRequest(r), policies...)
			switch {
			case err == nil:
				for k, v := range bearer.AcceptHeaderOf(m.checker) {
					w.Header()[k] = v
				}
				next.ServeHTTP(w, bearer.RequestWithClaims(r, c))
			case m.optional && errors.Is(err, bearer.ErrMissingToken):
				next.ServeHTTP(w, r)
			default:
				m.onError(w, r, err)
			}
		})
	}
}

// RequireScope is Require(bearer.RequireScope(scopes...)).
func (m *Middleware) RequireScope(scopes ...string) func(http.Handler) http.Handler {
	return m.Require(bearer.RequireScope(scopes...))
}

// WriteError is the default ErrorWriter: the RFC 6750 status and
// WWW-Authenticate challenge with a small JSON body.
func (m *Middleware) WriteError(w http.ResponseWriter, _ *http.Request, err error) {
	resp := m.checker.Response(err)
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// Metadata serves an API's RFC 9728 metadata document; a
// *bearer.ResourceMetadata is itself the http.Handler. Route it at
// md.Path().
func Metadata(md *bearer.ResourceMetadata) http.Handler { return md }

// Claims returns the claims of the request's verified token: a copy of
// its own for each call (see bearer.Claims), so that nothing the handler
// does to them reaches another request.
func Claims(r *http.Request) (*bearer.Claims, bool) { return bearer.FromContext(r.Context()) }
