// Package bearerhttp protects net/http handlers with bearer tokens checked
// by a bearer.Verifier. It works with anything that takes
// func(http.Handler) http.Handler: http.ServeMux, chi, gorilla/mux.
//
// The package only translates: every decision (which token, whether it is
// valid, whether a policy holds, what the refusal looks like) is made by
// package bearer, so the same request gets the same answer here as in the
// Gin, Echo and Fiber adapters.
package bearerhttp

import (
	"net/http"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// ErrorWriter answers a refused request. err is a *bearer.Error.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err error)

// Middleware guards handlers with one Verifier.
type Middleware struct {
	verifier *bearer.Verifier
	onError  ErrorWriter
}

// Option configures a Middleware.
type Option func(*Middleware)

// WithErrorWriter replaces the default answer to refused requests.
func WithErrorWriter(ew ErrorWriter) Option {
	return func(m *Middleware) { m.onError = ew }
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
// in the request's context (see bearer.FromContext).
func (m *Middleware) Authenticate(next http.Handler) http.Handler {
	return m.Require()(next)
}

// Require returns middleware that authenticates the request (unless an
// earlier Authenticate did) and then applies every policy.
func (m *Middleware) Require(policies ...bearer.Policy) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := m.verifier.Check(r.Context(), request{r}, policies...)
			if err != nil {
				m.onError(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(bearer.NewContext(r.Context(), c)))
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
	resp := m.verifier.Response(err)
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// Claims returns the claims of the request's verified token.
func Claims(r *http.Request) (*bearer.Claims, bool) { return bearer.FromContext(r.Context()) }

// request adapts *http.Request to bearer.Request.
type request struct{ r *http.Request }

func (q request) Header(name string) []string { return q.r.Header.Values(name) }
func (q request) Query(name string) []string  { return q.r.URL.Query()[name] }
func (q request) Method() string              { return q.r.Method }
func (q request) Form(name string) []string {
	if err := q.r.ParseForm(); err != nil {
		return nil
	}
	return q.r.PostForm[name]
}
