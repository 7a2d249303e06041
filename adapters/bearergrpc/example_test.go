package bearergrpc_test

import (
	"context"
	"log"
	"net"
	"os"

	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func Example() {
	v, err := bearer.New(bearer.Config{
		Issuer:    "https://sso.example.com/realms/services",
		Audiences: []string{"country-api"},
	})
	if err != nil {
		log.Fatal(err)
	}
	auth := bearergrpc.New(v,
		bearergrpc.WithMethodPolicies(map[string][]bearer.Policy{
			"/country.v1.CountryService/GetCountry": {bearer.RequireScope("country.read")},
		}),
		bearergrpc.WithSkip("/grpc.health.v1.Health/"),
	)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(auth.Unary),
		grpc.ChainStreamInterceptor(auth.Stream),
	)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	// Register the services; their handlers read the caller with
	// claims, _ := bearergrpc.Claims(ctx).

	l, err := net.Listen("tcp", ":8091")
	if err != nil {
		log.Fatal(err)
	}
	_ = srv.Serve(l)
}

func ExampleTokenSource() {
	cc := clientcredentials.Config{
		ClientID:     "country-client",
		ClientSecret: os.Getenv("CLIENT_SECRET"),
		TokenURL:     "https://sso.example.com/realms/services/protocol/openid-connect/token",
		Scopes:       []string{"country.read"},
	}
	conn, err := grpc.NewClient("country.example.com:443",
		grpc.WithTransportCredentials(credentials.NewTLS(nil)),
		grpc.WithPerRPCCredentials(bearergrpc.TokenSource(cc.TokenSource(context.Background()))),
	)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	// Every call on conn now carries the service's token, fetched once and
	// renewed shortly before it expires.
}
