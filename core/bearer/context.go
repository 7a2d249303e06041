package bearer

import (
	"context"
	"net/http"
)

type claimsKey struct{}

// claimsContext is a context carrying claims for FromContext. It is what
// context.WithValue(parent, claimsKey{}, claims) would make, as a type of
// bouncer's own so that RequestWithClaims can allocate it together with
// the request copy that carries it.
type claimsContext struct {
	context.Context
	claims *Claims
}

// Value answers for the claims, and asks the parent for anything else.
func (c *claimsContext) Value(key any) any {
	if _, ok := key.(claimsKey); ok {
		return c.claims
	}
	return c.Context.Value(key)
}

// String names the context as context.WithValue's do, without the claims.
func (c *claimsContext) String() string {
	if s, ok := c.Context.(interface{ String() string }); ok {
		return s.String() + ".WithValue(bearer claims)"
	}
	return "context.WithValue(bearer claims)"
}

// NewContext returns a copy of ctx carrying c, for handlers to read with
// FromContext. Middleware puts verified claims there; a test may put claims
// of its own. Check trusts only claims its own Verifier produced, so claims
// placed here by other code, copies of verified ones included, never stand
// in for a token.
//
// For claims a Verifier keeps and ctx context.Background(), as a Fiber
// handler's context is unless a middleware set one, the context returned
// is made once for the claims and shared by their requests: contexts are
// immutable, and a cache hit then costs no allocation.
func NewContext(ctx context.Context, c *Claims) context.Context {
	if ctx == nil {
		panic("bearer: NewContext: nil parent context")
	}
	// c.self == c: not a copy of such claims made with *c, which would
	// still hold the context of the claims it was copied from.
	if c != nil && c.self == c && c.background != nil && ctx == context.Background() {
		return c.background
	}
	return &claimsContext{ctx, c}
}

// RequestWithClaims returns a shallow copy of r whose context carries c:
// r.WithContext(NewContext(r.Context(), c)), made in one allocation
// instead of two. It is how a net/http middleware (Gin's and Echo's too)
// hands verified claims to the next handler; r itself is left as it was,
// as net/http asks of handlers.
func RequestWithClaims(r *http.Request, c *Claims) *http.Request {
	// One object holds both the context and the request copy. WithContext
	// is inlined, so the copy it makes is built on the stack and then
	// moved into x.req; were it not, this would cost the same two
	// allocations as the expression above, never a wrong answer.
	x := new(struct {
		ctx claimsContext
		req http.Request
	})
	x.ctx = claimsContext{r.Context(), c}
	x.req = *r.WithContext(&x.ctx)
	return &x.req
}

// FromContext returns the claims of the request's verified token, put there
// by a middleware: a copy of its own for each call (see Claims), so that
// nothing the caller does to them reaches bouncer or another request.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := fromContext(ctx)
	return c.Clone(), ok
}

// fromContext is FromContext without the copy, for Check: the claims in
// ctx as a middleware stored them.
func fromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}
