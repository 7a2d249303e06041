package bearerfiber3

import (
	"errors"

	"github.com/gofiber/fiber/v3"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Middleware guards routes with one verifier.
type Middleware struct {
	checker  bearer.Checker
	onError  fiber.ErrorHandler
	next     func(fiber.Ctx) bool
	optional bool
}

// Option configures a Middleware.
type Option func(*Middleware)

// WithErrorHandler replaces the default answer to refused requests. h gets a
// *bearer.Error; what it returns is what the middleware returns, so an
// error goes on to the app's own ErrorHandler. The route's handler never
// runs.
func WithErrorHandler(h fiber.ErrorHandler) Option {
	return func(m *Middleware) { m.onError = h }
}

// WithNext lets requests for which next reports true through unchecked,
// without claims, as the Next field of Fiber's own middleware configs
// does.
func WithNext(next func(c fiber.Ctx) bool) Option {
	return func(m *Middleware) { m.next = next }
}

// WithOptional makes authentication optional: a request without any token
// reaches the handler without claims, while a request whose token is bad
// is still refused. Handlers tell the two apart with Claims.
func WithOptional() Option {
	return func(m *Middleware) { m.optional = true }
}

// WithFiberErrors hands refusals to the app's ErrorHandler as *fiber.Error
// (status and description) instead of writing bouncer's answer, for
// applications that render every error in one place. The
// WWW-Authenticate, DPoP-Nonce and Retry-After headers are set on the
// response first, so the answer still tells the client what to do.
func WithFiberErrors() Option {
	return func(m *Middleware) { m.onError = m.fiberError }
}

// New returns middleware that checks requests with c, usually a
// *bearer.Verifier. It panics if c is nil: a missing verifier is a bug to
// stop at start, not at the first request.
func New(c bearer.Checker, opts ...Option) *Middleware {
	if err := bearer.CheckerError(c); err != nil {
		panic("bearerfiber3: New: " + err.Error())
	}
	m := &Middleware{checker: c}
	m.onError = m.WriteError
	for _, o := range opts {
		o(m)
	}
	return m
}

// Authenticate lets through requests with a valid token and puts its claims
// in c.Context() (see Claims and bearer.FromContext). Use it as
// app.Use(auth.Authenticate).
func (m *Middleware) Authenticate(c fiber.Ctx) error { return m.check(c, nil) }

// Require returns middleware that authenticates the request (unless an
// earlier middleware of the same verifier did) and then applies every
// policy.
func (m *Middleware) Require(policies ...bearer.Policy) fiber.Handler {
	return func(c fiber.Ctx) error { return m.check(c, policies) }
}

// RequireScope is Require(bearer.RequireScope(scopes...)).
func (m *Middleware) RequireScope(scopes ...string) fiber.Handler {
	return m.Require(bearer.RequireScope(scopes...))
}

func (m *Middleware) check(c fiber.Ctx, policies []bearer.Policy) error {
	if m.next != nil && m.next(c) {
		return c.Next()
	}
	ctx := c.Context()
	q := newRequest(c)
	claims, err := m.checker.Check(ctx, q, policies...)
	q.release()
	if m.optional && errors.Is(err, bearer.ErrMissingToken) {
		return c.Next()
	}
	if err != nil {
		return m.onError(c, err)
	}
	for k, vs := range bearer.AcceptHeaderOf(m.checker) {
		setHeader(c, k, vs)
	}
	c.SetContext(bearer.NewContext(ctx, claims))
	return c.Next()
}

// WriteError is the default error handler: the RFC 6750 status and
// WWW-Authenticate challenge with a small JSON body, exactly as package
// bearer renders them. It returns nil so that Fiber adds nothing.
func (m *Middleware) WriteError(c fiber.Ctx, err error) error {
	resp := m.checker.Response(err)
	for k, vs := range resp.Header {
		setHeader(c, k, vs)
	}
	return c.Status(resp.Status).Send(resp.Body)
}

// refusalHeaders are the headers of bouncer's refusal that WithFiberErrors
// keeps on the response, every value of each: the challenges (one per
// scheme when DPoP is accepted besides Bearer), the DPoP nonce to retry
// with, and when to retry after a 503.
var refusalHeaders = []string{"WWW-Authenticate", "DPoP-Nonce", "Retry-After"}

// fiberError is the WithFiberErrors handler.
func (m *Middleware) fiberError(c fiber.Ctx, err error) error {
	resp := m.checker.Response(err)
	for _, k := range refusalHeaders {
		if vs := resp.Header.Values(k); len(vs) > 0 {
			setHeader(c, k, vs)
		}
	}
	return fiber.NewError(resp.Status, bearer.AsError(err).Description)
}

// Metadata serves an API's RFC 9728 metadata document, as package bearer
// renders it: app.Get(md.Path(), bearerfiber3.Metadata(md)), which Fiber also
// answers for HEAD.
func Metadata(md *bearer.ResourceMetadata) fiber.Handler {
	return func(c fiber.Ctx) error {
		resp := md.ResponseTo(c.Method())
		for k, vs := range resp.Header {
			setHeader(c, k, vs)
		}
		return c.Status(resp.Status).Send(resp.Body)
	}
}

// Claims returns the claims of the request's verified token, from
// c.Context(): a copy of its own for each call (see bearer.Claims), so
// that nothing the handler does to them reaches another request.
func Claims(c fiber.Ctx) (*bearer.Claims, bool) { return bearer.FromContext(c.Context()) }

// setHeader puts every value of a header of package bearer's answers on
// the response, in place of any the response had. c.Set would keep only
// one: a refusal may carry a challenge for each scheme.
func setHeader(c fiber.Ctx, name string, values []string) {
	h := &c.Response().Header
	h.Del(name)
	for _, v := range values {
		h.Add(name, v)
	}
}
