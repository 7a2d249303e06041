package bearerhttp_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
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
	auth := bearerhttp.New(v)
	optional := bearerhttp.New(v, bearerhttp.WithOptional())
	skipping := bearerhttp.New(v, bearerhttp.WithSkip(func(r *http.Request) bool { return r.URL.Path == conformance.PathSkipped }))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := bearerhttp.Claims(r)
		fromCtx, _ := bearer.FromContext(r.Context())
		_, _ = w.Write(conformance.Body(c, fromCtx))
	})
	mux := http.NewServeMux()
	mux.Handle(conformance.PathAuthenticated, auth.Authenticate(ok))
	mux.Handle(conformance.PathScoped, auth.RequireScope(conformance.Scope)(ok))
	mux.Handle(conformance.PathPolicy, auth.Require(conformance.Policy)(ok))
	mux.Handle(conformance.PathOptional, optional.Authenticate(ok))
	mux.Handle(conformance.PathSkipped, skipping.RequireScope(conformance.Scope)(ok))
	mux.Handle(conformance.Metadata.Path(), bearerhttp.Metadata(conformance.Metadata))
	srv := httptest.NewUnstartedServer(mux)
	if cfg != nil {
		srv.TLS = cfg
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.URL
}
