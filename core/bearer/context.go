package bearer

import "context"

type claimsKey struct{}

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
	// c.self == c: not a copy of such claims made with *c, which would
	// still hold the context of the claims it was copied from.
	if c != nil && c.self == c && c.background != nil && ctx == context.Background() {
		return c.background
	}
	return context.WithValue(ctx, claimsKey{}, c)
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
