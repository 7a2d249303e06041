package bearer

import "context"

type claimsKey struct{}

// NewContext returns a copy of ctx carrying c, for handlers to read with
// FromContext. Middleware puts verified claims there; a test may put claims
// of its own. Check trusts only claims its own Verifier produced, so claims
// placed here by other code never stand in for a token.
func NewContext(ctx context.Context, c *Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// FromContext returns the claims of the request's verified token, put there
// by a middleware.
func FromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}
