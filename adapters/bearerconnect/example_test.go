package bearerconnect_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bouncer-go/bouncer/adapters/bearerconnect"
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
	auth := bearerconnect.New(v,
		bearerconnect.WithProcedurePolicies(map[string][]bearer.Policy{
			"/country.v1.CountryService/GetCountry": {bearer.RequireScope("country.read")},
		}),
		bearerconnect.WithSkip("/grpc.health.v1.Health/"),
	)
	server := connect.NewServer(auth.Intercept)
	// Register the services, such as
	// countrypbconnect.RegisterCountryServiceHandler(server, svc); their
	// handlers read the caller with claims, _ := bearerconnect.Claims(ctx).

	mux := http.NewServeMux()
	connecthttp.Mount(mux, server)
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(true) // gRPC clients without TLS, on a trusted network
	srv := &http.Server{Addr: ":8091", Handler: mux, Protocols: p}
	_ = srv.ListenAndServe()
}

// A calling service sends its token with an HTTP client of x/oauth2, which
// gets the token, caches it and renews it shortly before it expires.
func Example_client() {
	ctx := context.Background()
	cc := clientcredentials.Config{
		ClientID:     "country-client",
		ClientSecret: os.Getenv("CLIENT_SECRET"),
		TokenURL:     "https://sso.example.com/realms/services/protocol/openid-connect/token",
		Scopes:       []string{"country.read"},
	}
	httpClient := oauth2.NewClient(ctx, cc.TokenSource(ctx))
	client := connect.NewClient(connecthttp.NewTransport(httpClient, "https://country.example.com"))
	_ = client
	// countrypbconnect.NewCountryServiceClient(client) now calls with the
	// token. Add connecthttp.WithGRPC() to speak gRPC instead of Connect.
}
