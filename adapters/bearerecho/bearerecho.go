// Package bearerecho protects Echo v4 routes with bearer tokens checked by a
// bearer.Verifier (or any bearer.Checker). Its middleware are echo.MiddlewareFunc values, for
// e.Use, g.Use or a single route.
//
// The package only translates: every decision (which token, whether it is
// valid, whether a policy holds, what the refusal looks like) is made by
// package bearer, so the same request gets the same answer here as in the
// net/http, Gin and Fiber adapters.
package bearerecho

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// ErrorHandler answers a refused request. err is a *bearer.Error. An error
// it returns goes to Echo's HTTPErrorHandler, as from any handler.
type ErrorHandler func(c echo.Context, err error) error

// Middleware guards routes with one verifier.
type Middleware struct {
	checker  bearer.Checker
	onError  ErrorHandler
	skipper  middleware.Skipper
	optional bool
}

// Option configures a Middleware.
type Option func(*Middleware)

// WithErrorHandler replaces the default answer to refused requests.
func WithErrorHandler(h ErrorHandler) Option {
	return func(m *Middleware) { m.onError = h }
}

// WithSkipper lets requests for which skipper reports true through
// unchecked, without claims, as Echo's own middleware configs do.
func WithSkipper(skipper middleware.Skipper) Option {
	return func(m *Middleware) { m.skipper = skipper }
}

// WithOptional makes authentication optional: a request without any token
// reaches the handler without claims, while a request whose token is bad
// is still refused. Handlers tell the two apart with Claims.
func WithOptional() Option {
	return func(m *Middleware) { m.optional = true }
}

// WithHTTPErrors hands refusals to Echo's HTTPErrorHandler as
// *echo.HTTPError (status and description, with the *bearer.Error as
// Internal) instead of writing bouncer's answer, for applications that
// render every error in one place. The WWW-Authenticate, DPoP-Nonce and
// Retry-After headers are set on the response first, so the answer still
// tells the client what to do.
func WithHTTPErrors() Option {
	return func(m *Middleware) { m.onError = m.httpError }
}

// New returns middleware that checks requests with c, usually a
// *bearer.Verifier. It panics if c is nil: a missing verifier is a bug to
// stop at start, not at the first request.
func New(c bearer.Checker, opts ...Option) *Middleware {
	if err := bearer.CheckerError(c); err != nil {
		panic("bearerecho: New: " + err.Error())
	}
	m := &Middleware{checker: c}
	m.onError = m.WriteError
	for _, o := range opts {
		o(m)
	}
	return m
}

// Authenticate lets through requests with a valid token and puts its claims
// in the request's context (see Claims and bearer.FromContext).
func (m *Middleware) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return m.Require()(next)
}

// Require returns middleware that authenticates the request (unless an
// earlier middleware of the same verifier did) and then applies every
// policy.
func (m *Middleware) Require(policies ...bearer.Policy) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if m.skipper != nil && m.skipper(c) {
				return next(c)
			}
			r := c.Request()
			claims, err := m.checker.Check(r.Context(), bearer.HTTPRequest(r), policies...)
			if m.optional && errors.Is(err, bearer.ErrMissingToken) {
				return next(c)
			}
			if err != nil {
				return m.onError(c, err)
			}
			for k, v := range bearer.AcceptHeaderOf(m.checker) {
				c.Response().Header()[k] = v
			}
			c.SetRequest(bearer.RequestWithClaims(r, claims))
			return next(c)
		}
	}
}

// RequireScope is Require(bearer.RequireScope(scopes...)).
func (m *Middleware) RequireScope(scopes ...string) echo.MiddlewareFunc {
	return m.Require(bearer.RequireScope(scopes...))
}

// WriteError is the default ErrorHandler: the RFC 6750 status and
// WWW-Authenticate challenge with a small JSON body. It copies core's
// answer onto c.Response() as is, bypassing Echo's helpers that encode
// bodies or default the Content-Type, and returns nil so that Echo's
// HTTPErrorHandler adds nothing either.
func (m *Middleware) WriteError(c echo.Context, err error) error {
	resp := m.checker.Response(err)
	w := c.Response()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
	return nil
}

// refusalHeaders are the headers of bouncer's refusal that WithHTTPErrors
// keeps on the response, every value of each: the challenges (one per
// scheme when DPoP is accepted besides Bearer), the DPoP nonce to retry
// with, and when to retry after a 503.
var refusalHeaders = []string{"WWW-Authenticate", "DPoP-Nonce", "Retry-After"}

// httpError is the WithHTTPErrors handler.
func (m *Middleware) httpError(c echo.Context, err error) error {
	resp := m.checker.Response(err)
	h := c.Response().Header()
	for _, k := range refusalHeaders {
		if v := resp.Header.Values(k); len(v) > 0 {
			h[http.CanonicalHeaderKey(k)] = v
		}
	}
	return &echo.HTTPError{Code: resp.Status, Message: bearer.AsError(err).Description, Internal: err}
}

// Metadata serves an API's RFC 9728 metadata document, as package bearer
// renders it, for GET and HEAD at md.Path():
// e.GET(md.Path(), bearerecho.Metadata(md)).
func Metadata(md *bearer.ResourceMetadata) echo.HandlerFunc {
	return func(c echo.Context) error {
		md.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// Claims returns the claims of the request's verified token, from
// c.Request().Context(): a copy of its own for each call (see
// bearer.Claims), so that nothing the handler does to them reaches another
// request.
func Claims(c echo.Context) (*bearer.Claims, bool) { return bearer.FromContext(c.Request().Context()) }
