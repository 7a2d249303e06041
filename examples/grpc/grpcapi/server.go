// Package grpcapi is the country API over gRPC, guarded by bouncer's
// bearergrpc interceptors. Command grpc runs it.
package grpcapi

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// newServer builds the gRPC server. Each method's policy is stated in one
// map, and the health and reflection services are left open, as
// GET /healthz is in the HTTP examples.
func newServer(v *countryapi.Guard) *grpc.Server {
	auth := bearergrpc.New(v,
		bearergrpc.WithMethodPolicies(map[string][]bearer.Policy{
			countrypb.CountryService_GetCountry_FullMethodName: {v.CountryPolicy()},
		}),
		bearergrpc.WithSkip(
			"/grpc.health.v1.Health/",
			"/grpc.reflection.v1.ServerReflection/",
			"/grpc.reflection.v1alpha.ServerReflection/",
		),
	)
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(auth.Unary), grpc.ChainStreamInterceptor(auth.Stream))
	countrypb.RegisterCountryServiceServer(srv, countryService{})
	healthpb.RegisterHealthServer(srv, health.NewServer())
	reflection.Register(srv)
	return srv
}

type countryService struct {
	countrypb.UnimplementedCountryServiceServer
}

func (countryService) GetCountry(_ context.Context, req *countrypb.GetCountryRequest) (*countrypb.Country, error) {
	c, ok := countryapi.Lookup(req.GetCode())
	if !ok {
		return nil, status.Error(codes.NotFound, countryapi.UnknownCountry().Description)
	}
	return &countrypb.Country{Code: c.Code, Name: c.Name}, nil
}
