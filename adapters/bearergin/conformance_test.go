package bearergin_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/bouncer-go/bouncer/adapters/bearergin"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T, v *bearer.Verifier) string {
		auth := bearergin.New(v)
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
		}
		srv := httptest.NewServer(r)
		t.Cleanup(srv.Close)
		return srv.URL
	})
}
