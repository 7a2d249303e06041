package bearerfiber

import (
	"github.com/gofiber/fiber/v2"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// claimsKey is the c.Locals key of the claims; Claims reads it.
type claimsKey struct{}

// Middleware guards routes with one Verifier.
type Middleware struct {
	verifier *bearer.Verifier
	onError  fiber.ErrorHandler
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
// in c.Locals (see Claims) and in c.UserContext() (see bearer.FromContext).
// Use it as app.Use(auth.Authenticate).
func (m *Middleware) Authenticate(c *fiber.Ctx) error { return m.check(c, nil) }

// Require returns middleware that authenticates the request (unless an
// earlier Authenticate did) and then applies every policy.
func (m *Middleware) Require(policies ...bearer.Policy) fiber.Handler {
	return func(c *fiber.Ctx) error { return m.check(c, policies) }
}

// RequireScope is Require(bearer.RequireScope(scopes...)).
func (m *Middleware) RequireScope(scopes ...string) fiber.Handler {
	return m.Require(bearer.RequireScope(scopes...))
}

func (m *Middleware) check(c *fiber.Ctx, policies []bearer.Policy) error {
	claims, err := m.verifier.Check(c.UserContext(), request{c}, policies...)
	if err != nil {
		return m.onError(c, err)
	}
	c.Locals(claimsKey{}, claims)
	c.SetUserContext(bearer.NewContext(c.UserContext(), claims))
	return c.Next()
}

// WriteError is the default error handler: the RFC 6750 status and
// WWW-Authenticate challenge with a small JSON body, exactly as package
// bearer renders them. It returns nil so that Fiber adds nothing.
func (m *Middleware) WriteError(c *fiber.Ctx, err error) error {
	resp := m.verifier.Response(err)
	h := &c.Response().Header
	for k, vs := range resp.Header {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	return c.Status(resp.Status).Send(resp.Body)
}

// Claims returns the claims of the request's verified token.
func Claims(c *fiber.Ctx) (*bearer.Claims, bool) {
	claims, ok := c.Locals(claimsKey{}).(*bearer.Claims)
	return claims, ok && claims != nil
}
