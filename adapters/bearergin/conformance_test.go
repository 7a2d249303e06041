package bearergin_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/bouncer-go/bouncer/adapters/bearergin"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

// TestConformance runs the suite over plain HTTP and, for the cases whose
// client certificate comes from the TLS connection, over TLS.
func TestConformance(t *testing.T) {
	conformance.Run(t,
		func(t *testing.T, v bearer.Checker) string { return serveConformance(t, v, nil) },
		func(t *testing.T, v bearer.Checker, cfg *tls.Config) string { return serveConformance(t, v, cfg) })
}

// serveConformance serves the suite's routes guarded by v, over TLS with
// cfg unless it is nil, until t ends, and returns the base URL.
func serveConformance(t *testing.T, v bearer.Checker, cfg *tls.Config) string {
	auth := bearergin.New(v)
	optional := bearergin.New(v, bearergin.WithOptional())
	skipping := bearergin.New(v, bearergin.WithSkip(func(c *gin.Context) bool { return c.Request.URL.Path == conformance.PathSkipped }))
	ok := func(c *gin.Context) {
		claims, _ := bearergin.Claims(c)
		fromCtx, _ := bearer.FromContext(c.Request.Context())
		_, _ = c.Writer.Write(conformance.Body(claims, fromCtx))
	}
	r := gin.New()
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		r.Handle(method, conformance.PathAuthenticated, auth.Authenticate, ok)
		r.Handle(method, conformance.PathScoped, auth.RequireScope(conformance.Scope), ok)
		r.Handle(method, conformance.PathPolicy, auth.Require(conformance.Policy), ok)
		r.Handle(method, conformance.PathOptional, optional.Authenticate, ok)
		r.Handle(method, conformance.PathSkipped, skipping.RequireScope(conformance.Scope), ok)
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		r.Handle(method, conformance.Metadata.Path(), bearergin.Metadata(conformance.Metadata))
	}
	srv := httptest.NewUnstartedServer(r)
	if cfg != nil {
		srv.TLS = cfg
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.URL
}
