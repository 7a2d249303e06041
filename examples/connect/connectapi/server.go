// Package connectapi is the country API over Connect RPC, guarded by
// bouncer's bearerconnect interceptor. Command connect runs it.
package connectapi

import (
	"context"
	"log/slog"
	"net/http"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"

	"github.com/bouncer-go/bouncer/adapters/bearerconnect"
	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb/countrypbconnect"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// newHandler routes the API: the Connect service, whose procedures'
// policies are stated in one map, and beside it, on the same mux, the
// open HTTP routes of every example: the RFC 9728 metadata that the
// challenges name, and the health check.
func newHandler(g *countryapi.Guard, logger *slog.Logger) http.Handler {
	auth := bearerconnect.New(g,
		bearerconnect.WithProcedurePolicies(map[string][]bearer.Policy{
			countrypbconnect.CountryServiceGetCountryProcedure: {bearer.RequireScope(countryapi.ScopeCountryRead)},
		}),
	)
	server := connect.NewServer(auth.Intercept)
	countrypbconnect.RegisterCountryServiceHandler(server, countryService{})
	mux := http.NewServeMux()
	connecthttp.Mount(mux, server)
	mux.Handle("GET "+g.Metadata.Path(), bearerhttp.Metadata(g.Metadata))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		countryapi.WriteAnswer(w, countryapi.AnswerHealth(r.Context(), g, logger))
	})
	return mux
}

type countryService struct{}

func (countryService) GetCountry(_ context.Context, req *countrypb.GetCountryRequest) (*countrypb.Country, error) {
	c, ok := countryapi.Lookup(req.GetCode())
	if !ok {
		return nil, connect.NewError(connect.CodeNotFound, countryapi.UnknownCountry().Description)
	}
	return &countrypb.Country{Code: c.Code, Name: c.Name}, nil
}
