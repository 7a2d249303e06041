// Package bearerecho protects Echo v4 routes with bearer tokens checked by a
// bearer.Verifier. Its middleware are echo.MiddlewareFunc values, for
// e.Use, g.Use or a single route.
//
// The package only translates: every decision (which token, whether it is
// valid, whether a policy holds, what the refusal looks like) is made by
// package bearer, so the same request gets the same answer here as in the
// net/http, Gin and Fiber adapters.
package bearerecho

import (
	"github.com/labstack/echo/v4"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// claimsKey names the claims in echo.Context; qualified so that it does not
// collide with an application's own keys such as "user".
const claimsKey = "github.com/bouncer-go/bouncer/adapters/bearerecho.claims"

// ErrorHandler answers a refused request. err is a *bearer.Error. An error
// it returns goes to Echo's HTTPErrorHandler, as from any handler.
type ErrorHandler func(c echo.Context, err error) error

// Middleware guards routes with one Verifier.
type Middleware struct {
	verifier *bearer.Verifier
	onError  ErrorHandler
}

// Option configures a Middleware.
type Option func(*Middleware)

// WithErrorHandler replaces the default answer to refused requests.
func WithErrorHandler(h ErrorHandler) Option {
	return func(m *Middleware) { m.onError = h }
}

// New returns middleware that checks requests with v.
func New(v *bearer.Verifier, opts ...Option) *Middleware {
	m := &Middleware{verifier: v}
	m.onError = m.WriteError
	for _, o := range opts {
		o(m)
	}
	return m
}

// Authenticate lets through requests with a valid token and puts its claims
// in the echo.Context (see Claims) and in the request's context (see
// bearer.FromContext).
func (m *Middleware) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return m.Require()(next)
}

// Require returns middleware that authenticates the request (unless an
// earlier Authenticate did) and then applies every policy.
func (m *Middleware) Require(policies ...bearer.Policy) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			claims, err := m.verifier.Check(r.Context(), request{c}, policies...)
			if err != nil {
				return m.onError(c, err)
			}
			c.Set(claimsKey, claims)
			c.SetRequest(r.WithContext(bearer.NewContext(r.Context(), claims)))
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
	resp := m.verifier.Response(err)
	w := c.Response()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
	return nil
}

// Claims returns the claims of the request's verified token.
func Claims(c echo.Context) (*bearer.Claims, bool) {
	claims, ok := c.Get(claimsKey).(*bearer.Claims)
	return claims, ok && claims != nil
}
