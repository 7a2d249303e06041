// Command countryapi is the quick start's API over gRPC, with TLS from
// TLS_CERT_FILE and TLS_KEY_FILE. Package countrypb is generated from the
// API's .proto file.
package main

import (
	"context"
	"log"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/core/bearer"

	pb "example.com/countryapi/countrypb"
)

func main() {
	v, err := bearer.New(bearer.Config{
		Issuer:    os.Getenv("ISSUER_URL"),
		Audiences: []string{"country-api"},
	})
	if err != nil {
		log.Fatal(err)
	}
	creds, err := credentials.NewServerTLSFromFile(os.Getenv("TLS_CERT_FILE"), os.Getenv("TLS_KEY_FILE"))
	if err != nil {
		log.Fatal(err)
	}

	auth := bearergrpc.New(v,
		bearergrpc.WithMethodPolicies(map[string][]bearer.Policy{
			pb.CountryService_GetCountry_FullMethodName: {
				bearer.RequireScope("country.read")},
		}),
		bearergrpc.WithSkip("/grpc.health.v1.Health/"))
	srv := grpc.NewServer(
		grpc.Creds(creds),
		grpc.ChainUnaryInterceptor(auth.Unary),
		grpc.ChainStreamInterceptor(auth.Stream))
	pb.RegisterCountryServiceServer(srv, countries{})

	l, err := net.Listen("tcp", os.Getenv("ADDR"))
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(srv.Serve(l))
}

type countries struct {
	pb.UnimplementedCountryServiceServer
}

func (countries) GetCountry(ctx context.Context, req *pb.GetCountryRequest) (*pb.Country, error) {
	claims, _ := bearergrpc.Claims(ctx)
	if req.GetCode() != "AUS" {
		return nil, status.Errorf(codes.NotFound, "no country %q", req.GetCode())
	}
	log.Printf("GetCountry for %s", claims.ClientID)
	return &pb.Country{Code: "AUS", Name: "Australia"}, nil
}
