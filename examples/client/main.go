// Command client is the calling side of the country API: a backend service
// that obtains an access token with the OAuth2 client-credentials grant and
// calls the API with it, printing the answer. It never prints the token or
// the secret, and exits 1 unless the API answers 2xx.
//
// Environment:
//
//	ISSUER_URL     the issuer; its token endpoint is discovered
//	TOKEN_URL      or the token endpoint itself
//	CLIENT_ID      the client's ID
//	CLIENT_SECRET  the client's secret
//	SCOPES         scopes to ask for, space- or comma-separated
//	RESOURCE       RFC 8707 resource indicator (optional)
//	API_URL        what to call (default http://localhost:8091/country/code/AUS)
//	GRPC_ADDR      or the address of the gRPC country API (examples/grpc) to
//	               call GetCountry AUS on; plaintext on loopback, TLS elsewhere
//	MCP_URL        or the endpoint of the MCP country server (examples/mcp)
//	               whose lookup_country tool to call for AUS
//	CONNECT_URL    or the base URL of the Connect country API
//	               (examples/connect) to call GetCountry AUS on
//	CONNECT_PROTOCOL  connect (default) or grpcweb, for CONNECT_URL; a gRPC
//	               client calls the Connect API with GRPC_ADDR
//
// The work is done by package tokenclient, which the examples' tests run
// too.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/bouncer-go/bouncer/examples/internal/tokenclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()

	err := start(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "client: %v\n", err)
		cancel()
		stop()
		os.Exit(1)
	}
}

func start(ctx context.Context) error {
	cfg, err := tokenclient.ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	return tokenclient.Run(ctx, cfg, nil, os.Stdout)
}
