// Package nethttpapi is the country API on net/http, guarded by bouncer's
// bearerhttp middleware. Command nethttp runs it; bouncer's integration
// tests run it beside the Gin, Echo and Fiber versions.
package nethttpapi

import (
	"log/slog"
	"net/http"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// newHandler routes the API. Each protected route states its own policy, so
// that what a route needs is read where the route is declared.
func newHandler(v *countryapi.Guard, logger *slog.Logger) http.Handler {
	auth := bearerhttp.New(v)
	mux := http.NewServeMux()
	mux.Handle("GET /country/code/{code}", auth.Require(v.CountryPolicy())(http.HandlerFunc(country)))
	mux.Handle("GET /api/data", auth.Authenticate(http.HandlerFunc(data)))
	mux.Handle("GET "+v.Metadata.Path(), bearerhttp.Metadata(v.Metadata))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		countryapi.WriteAnswer(w, countryapi.AnswerHealth(r.Context(), v, logger))
	})
	return mux
}

func country(w http.ResponseWriter, r *http.Request) {
	countryapi.WriteAnswer(w, countryapi.AnswerCountry(r.PathValue("code")))
}

func data(w http.ResponseWriter, r *http.Request) {
	countryapi.WriteAnswer(w, countryapi.AnswerData(bearerhttp.Claims(r)))
}
