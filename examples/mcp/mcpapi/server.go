// Package mcpapi is the country lookup as an MCP server over streamable
// HTTP, guarded by bouncer's bearermcp adapter. Command mcp runs it.
package mcpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bouncer-go/bouncer/adapters/bearermcp"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// Path is where the MCP endpoint is served.
const Path = "/mcp"

type lookupInput struct {
	Code string `json:"code" jsonschema:"the country's ISO 3166-1 alpha-3 code, such as AUS"`
}

// lookupCountry answers with the country, as structured content and as
// JSON text, the same JSON GET /country/code/{code} answers.
func lookupCountry(_ context.Context, _ *mcp.CallToolRequest, in lookupInput) (*mcp.CallToolResult, countryapi.Country, error) {
	c, ok := countryapi.Lookup(in.Code)
	if !ok {
		return nil, countryapi.Country{}, errors.New(countryapi.UnknownCountry().Description)
	}
	return nil, c, nil
}

func newServer(logger *slog.Logger) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "country", Version: "v1"}, &mcp.ServerOptions{Logger: logger})
	mcp.AddTool(s, &mcp.Tool{
		Name:        countryapi.LookupCountryTool,
		Description: "Finds a country's name by its ISO 3166-1 alpha-3 code.",
	}, lookupCountry)
	return s
}

// newHandler routes the MCP endpoint, which needs a token with
// country.read, and the API's RFC 9728 metadata, which its refusals point
// to. The SDK's scope check covers the whole endpoint: every tool of this
// server needs country.read.
func newHandler(g *countryapi.Guard, server *mcp.Server, logger *slog.Logger) (http.Handler, error) {
	v, ok := g.Checker.(bearermcp.Verifier)
	if !ok {
		return nil, fmt.Errorf("bearermcp needs a verifier of bare tokens, got %T", g.Checker)
	}
	md := g.Metadata
	md.ResourceName = "bouncer example: country lookup"
	md.ScopesSupported = []string{countryapi.ScopeCountryRead}
	opts, err := bearermcp.Options(md, countryapi.ScopeCountryRead)
	if err != nil {
		return nil, err
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{Logger: logger})
	mux := http.NewServeMux()
	mux.Handle(md.Path(), bearermcp.Metadata(md))
	mux.Handle(Path, bearermcp.Require(bearermcp.TokenVerifier(v), opts)(h))
	return mux, nil
}
