package tokenclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// callMCP calls the country lookup tool of the MCP server at endpoint with
// the Go SDK's MCP client, over client, which sends the token, and prints
// the tool's answer. A refusal stops the connection: the SDK's error names
// the HTTP status.
func callMCP(ctx context.Context, client *http.Client, endpoint string, out io.Writer) error {
	fmt.Fprintf(out, "%s %s at %s\n", countryapi.LookupCountryTool, lookupCode, endpoint)
	transport := &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: client, DisableStandaloneSSE: true}
	session, err := mcp.NewClient(&mcp.Implementation{Name: "bouncer-example-client", Version: "v1"}, nil).Connect(ctx, transport, nil)
	if err != nil {
		return fmt.Errorf("connecting to the MCP server: %w", err)
	}
	defer session.Close()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: countryapi.LookupCountryTool, Arguments: map[string]any{"code": lookupCode}})
	if err != nil {
		return fmt.Errorf("calling %s: %w", countryapi.LookupCountryTool, err)
	}
	for _, c := range res.Content {
		if text, ok := c.(*mcp.TextContent); ok {
			fmt.Fprintf(out, "%s\n", text.Text)
		}
	}
	if res.IsError {
		return errors.New("the tool answered an error")
	}
	return nil
}
