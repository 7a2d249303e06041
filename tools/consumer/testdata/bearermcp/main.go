// Command countrymcp is the README's MCP server: the tool lookup_country
// for callers whose token, issued by the issuer at ISSUER_URL for this
// server's URL (RESOURCE_URL, e.g. https://mcp.example.com/mcp), carries
// the scope country.read.
package main

import (
	"context"
	"errors"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bouncer-go/bouncer/adapters/bearermcp"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func main() {
	issuer, resource := os.Getenv("ISSUER_URL"), os.Getenv("RESOURCE_URL")
	server := mcp.NewServer(&mcp.Implementation{Name: "country", Version: "v1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "lookup_country", Description: "Finds a country by its ISO 3166-1 alpha-3 code."}, lookup)
	mux := http.NewServeMux()

	cfg := bearer.Config{
		Issuer:    issuer,
		Audiences: []string{resource}, // MCP clients ask for tokens for the server's URL (RFC 8707)
	}
	md, err := bearer.NewResourceMetadata(resource, cfg)
	if err != nil {
		log.Fatal(err)
	}
	md.ScopesSupported = []string{"country.read"}
	opts, err := bearermcp.Options(md, "country.read")
	if err != nil {
		log.Fatal(err)
	}
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
	mux.Handle(md.Path(), bearermcp.Metadata(md)) // /.well-known/oauth-protected-resource/mcp
	mux.Handle("/mcp", bearermcp.Require(bearermcp.TokenVerifier(v), opts)(handler))

	srv := &http.Server{Addr: os.Getenv("ADDR"), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

type lookupInput struct {
	Code string `json:"code"`
}

type country struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

func lookup(_ context.Context, req *mcp.CallToolRequest, in lookupInput) (*mcp.CallToolResult, country, error) {
	claims, _ := bearermcp.Claims(req.Extra.TokenInfo)
	if in.Code != "AUS" {
		return nil, country{}, errors.New("unknown country")
	}
	log.Printf("lookup_country for %s", claims.ClientID)
	return nil, country{Code: "AUS", Name: "Australia"}, nil
}
