// Package bearergin protects Gin routes with bearer tokens checked by a
// bearer.Verifier.
//
// The package only translates: every decision (which token, whether it is
// valid, whether a policy holds, what the refusal looks like) is made by
// package bearer, so the same request gets the same answer here as in the
// net/http, Echo and Fiber adapters.
//
// Handlers read the claims with Claims(c), or with bearer.FromContext on
// c.Request.Context(). Passing the *gin.Context itself as a context.Context
// reaches them only when the engine has ContextWithFallback set, because
// Gin otherwise does not look into the request's context.
package bearergin

import (
	"errors"

	"github.com/gin-gonic/gin"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// ErrorHandler answers a refused request. err is a *bearer.Error. The
// middleware aborts the chain after it returns, whatever it wrote.
type ErrorHandler func(c *gin.Context, err error)

// Middleware guards routes with one verifier.
type Middleware struct {
	checker  bearer.Checker
	onError  ErrorHandler
	skip     func(*gin.Context) bool
	optional bool
}

// Option configures a Middleware.
type Option func(*Middleware)

// WithErrorHandler replaces the default answer to refused requests.
func WithErrorHandler(h ErrorHandler) Option {
	return func(m *Middleware) { m.onError = h }
}

// WithSkip lets requests for which skip reports true through unchecked,
// without claims (health checks, metadata documents).
func WithSkip(skip func(*gin.Context) bool) Option {
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
		panic("bearergin: New: " + err.Error())
	}
	m := &Middleware{checker: c}
	m.onError = m.WriteError
	for _, o := range opts {
		o(m)
	}
	return m
}

// Authenticate lets through requests with a valid token and puts its claims
// in the request's context (see Claims and bearer.FromContext). Use it as
// router.Use(auth.Authenticate).
func (m *Middleware) Authenticate(c *gin.Context) { m.check(c, nil) }

// Require returns middleware that authenticates the request (unless an
// earlier middleware of the same verifier did) and then applies every
// policy.
func (m *Middleware) Require(policies ...bearer.Policy) gin.HandlerFunc {
	return func(c *gin.Context) { m.check(c, policies) }
}

// RequireScope is Require(bearer.RequireScope(scopes...)).
func (m *Middleware) RequireScope(scopes ...string) gin.HandlerFunc {
	return m.Require(bearer.RequireScope(scopes...))
}

// check judges the request. A refusal is also recorded with c.Error, as
// Gin's loggers and error middleware expect, whatever the ErrorHandler
// writes.
func (m *Middleware) check(c *gin.Context, policies []bearer.Policy) {
	if m.skip != nil && m.skip(c) {
		return
	}
	claims, err := m.checker.Check(c.Request.Context(), bearer.HTTPRequest(c.Request), policies...)
	if m.optional && errors.Is(err, bearer.ErrMissingToken) {
		return
	}
	if err != nil {
		_ = c.Error(err)
		m.onError(c, err)
		c.Abort()
		return
	}
	for k, v := range bearer.AcceptHeaderOf(m.checker) {
		c.Writer.Header()[k] = v
	}
	c.Request = bearer.RequestWithClaims(c.Request, claims)
}

// WriteError is the default ErrorHandler: the RFC 6750 status and
// WWW-Authenticate challenge with a small JSON body, exactly as package
// bearer renders them.
func (m *Middleware) WriteError(c *gin.Context, err error) {
	resp := m.checker.Response(err)
	for k, v := range resp.Header {
		c.Writer.Header()[k] = v
	}
	// Not c.Data, which adds a Content-Length of its own.
	c.Status(resp.Status)
	_, _ = c.Writer.Write(resp.Body)
}

// Metadata serves an API's RFC 9728 metadata document, as package bearer
// renders it, for GET and HEAD at md.Path():
// r.GET(md.Path(), bearergin.Metadata(md)).
func Metadata(md *bearer.ResourceMetadata) gin.HandlerFunc {
	return func(c *gin.Context) { md.ServeHTTP(c.Writer, c.Request) }
}

// Claims returns the claims of the request's verified token, from
// c.Request.Context(): a copy of its own for each call (see bearer.Claims),
// so that nothing the handler does to them reaches another request.
func Claims(c *gin.Context) (*bearer.Claims, bool) { return bearer.FromContext(c.Request.Context()) }
