package bearermcp_test

import (
	"context"
	"log"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bouncer-go/bouncer/adapters/bearermcp"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func Example() {
	cfg := bearer.Config{
		Issuer:    "https://sso.example.com/realms/services",
		Audiences: []string{"https://mcp.example.com/mcp"},
	}
	md, err := bearer.NewResourceMetadata("https://mcp.example.com/mcp", cfg)
	if err != nil {
		log.Fatal(err)
	}
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	md.ScopesSupported = []string{"country.read"}
	opts, err := bearermcp.Options(md, "country.read")
	if err != nil {
		log.Fatal(err)
	}

	server := mcp.NewServer(&mcp.Implementation{Name: "countries", Version: "v1"}, nil)
	server.AddTool(&mcp.Tool{Name: "whoami", InputSchema: map[string]any{"type": "object"}},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			claims, _ := bearermcp.Claims(req.Extra.TokenInfo)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: claims.ClientID}}}, nil
		})
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)

	mux := http.NewServeMux()
	mux.Handle(md.Path(), bearermcp.Metadata(md)) // /.well-known/oauth-protected-resource/mcp
	mux.Handle("/mcp", bearermcp.Require(bearermcp.TokenVerifier(v), opts)(handler))
	_ = http.ListenAndServe(":8092", mux)
}
