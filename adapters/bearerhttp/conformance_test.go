package bearerhttp_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, v bearer.Checker) string {
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
		srv := httptest.NewServer(mux)
		t.Cleanup(srv.Close)
		return srv.URL
	})
}
