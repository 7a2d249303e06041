// Command countryapi is the quick start's API over Connect: one handler
// answers Connect, gRPC and gRPC-Web clients on ADDR (HTTP/1.1, and HTTP/2
// without TLS for gRPC). Packages countrypb and countrypbconnect are
// generated from the API's .proto file.
package main

import (
	"context"
	"log"
	"net/http"
	"os"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"

	"github.com/bouncer-go/bouncer/adapters/bearerconnect"
	"github.com/bouncer-go/bouncer/core/bearer"

	"example.com/countryapi/countrypb"
	"example.com/countryapi/countrypb/countrypbconnect"
)

func main() {
	v, err := bearer.New(bearer.Config{
		Issuer:    os.Getenv("ISSUER_URL"),
		Audiences: []string{"country-api"},
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	var svc countryService
	auth := bearerconnect.New(v,
		bearerconnect.WithProcedurePolicies(map[string][]bearer.Policy{
			countrypbconnect.CountryServiceGetCountryProcedure: {
				bearer.RequireScope("country.read")},
		}))
	server := connect.NewServer(auth.Intercept)
	countrypbconnect.RegisterCountryServiceHandler(server, svc)
	connecthttp.Mount(mux, server)

	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{Addr: os.Getenv("ADDR"), Handler: mux, Protocols: protocols, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

type countryService struct{}

func (countryService) GetCountry(ctx context.Context, req *countrypb.GetCountryRequest) (*countrypb.Country, error) {
	// in a handler:
	claims, _ := bearerconnect.Claims(ctx)
	if req.GetCode() != "AUS" {
		return nil, connect.NewError(connect.CodeNotFound, "unknown country")
	}
	log.Printf("GetCountry for %s", claims.ClientID)
	return &countrypb.Country{Code: "AUS", Name: "Australia"}, nil
}
