package bearerecho_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/bouncer-go/bouncer/adapters/bearerecho"
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
	auth := bearerecho.New(v)
	optional := bearerecho.New(v, bearerecho.WithOptional())
	skipping := bearerecho.New(v, bearerecho.WithSkipper(func(c echo.Context) bool { return c.Path() == conformance.PathSkipped }))
	ok := func(c echo.Context) error {
		claims, _ := bearerecho.Claims(c)
		fromCtx, _ := bearer.FromContext(c.Request().Context())
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, conformance.Body(claims, fromCtx))
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	methods := []string{http.MethodGet, http.MethodPost}
	e.Match(methods, conformance.PathAuthenticated, ok, auth.Authenticate)
	e.Match(methods, conformance.PathScoped, ok, auth.RequireScope(conformance.Scope))
	e.Match(methods, conformance.PathPolicy, ok, auth.Require(conformance.Policy))
	e.Match(methods, conformance.PathOptional, ok, optional.Authenticate)
	e.Match(methods, conformance.PathSkipped, ok, skipping.RequireScope(conformance.Scope))
	e.Match([]string{http.MethodGet, http.MethodHead}, conformance.Metadata.Path(), bearerecho.Metadata(conformance.Metadata))
	srv := httptest.NewUnstartedServer(e)
	if cfg != nil {
		srv.TLS = cfg
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.URL
}
