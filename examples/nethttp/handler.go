package main

import (
	"log/slog"
	"net/http"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// newHandler routes the API. Each protected route states its own policy, so
// that what a route needs is read where the route is declared.
func newHandler(v *bearer.Verifier, logger *slog.Logger) http.Handler {
	auth := bearerhttp.New(v)
	mux := http.NewServeMux()
	mux.Handle("GET /country/code/{code}", auth.RequireScope(countryapi.ScopeCountryRead)(http.HandlerFunc(country)))
	mux.Handle("GET /api/data", auth.Authenticate(http.HandlerFunc(data)))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		countryapi.WriteJSON(w, http.StatusOK, countryapi.CheckHealth(r.Context(), v, logger))
	})
	return mux
}

func country(w http.ResponseWriter, r *http.Request) {
	c, ok := countryapi.Lookup(r.PathValue("code"))
	if !ok {
		countryapi.WriteJSON(w, http.StatusNotFound, countryapi.UnknownCountry())
		return
	}
	countryapi.WriteJSON(w, http.StatusOK, c)
}

func data(w http.ResponseWriter, r *http.Request) {
	claims, ok := bearerhttp.Claims(r)
	if !ok { // Authenticate let the request through, so this cannot happen
		countryapi.WriteJSON(w, http.StatusInternalServerError, countryapi.ErrorBody{Error: "server_error", Description: "no verified token"})
		return
	}
	countryapi.WriteJSON(w, http.StatusOK, countryapi.InfoFrom(claims))
}
