// Command client is the quick start's calling service: it gets a token
// with the client-credentials grant (CLIENT_ID, CLIENT_SECRET, TOKEN_URL)
// and calls GetCountry on the gRPC API at ADDR, over TLS.
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"

	pb "example.com/countryapi/countrypb"
)

func main() {
	ctx := context.Background()
	id, secret, tokenURL, addr := os.Getenv("CLIENT_ID"), os.Getenv("CLIENT_SECRET"), os.Getenv("TOKEN_URL"), os.Getenv("ADDR")

	cc := clientcredentials.Config{ClientID: id,
		ClientSecret: secret, TokenURL: tokenURL,
		Scopes: []string{"country.read"}}
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(credentials.NewTLS(nil)),
		grpc.WithPerRPCCredentials(
			bearergrpc.TokenSource(cc.TokenSource(ctx))))
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	country, err := pb.NewCountryServiceClient(conn).GetCountry(ctx, &pb.GetCountryRequest{Code: "AUS"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(country.GetName())
}
