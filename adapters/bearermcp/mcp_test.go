package bearermcp_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bouncer-go/bouncer/adapters/bearermcp"
	"github.com/bouncer-go/bouncer/core/bearer"
)

// newMCPServer serves an MCP server with one tool, whoami, that answers
// the caller's client ID as the tool handler reads it.
func newMCPServer(t *testing.T, v bearermcp.Verifier) string {
	t.Helper()
	server := mcp.NewServer(&mcp.Implementation{Name: "whoami", Version: "v1"}, nil)
	server.AddTool(&mcp.Tool{Name: "whoami", InputSchema: map[string]any{"type": "object"}},
		func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			c, _ := bearermcp.Claims(req.Extra.TokenInfo)
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: c.ClientID}}}, nil
		})
	return serve(t, func(base string) http.Handler {
		md := &bearer.ResourceMetadata{Resource: base}
		opts, err := bearermcp.Options(md, scopeRead)
		if err != nil {
			t.Fatal(err)
		}
		h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, nil)
		mux := http.NewServeMux()
		mux.Handle(md.Path(), bearermcp.Metadata(md))
		mux.Handle("/mcp", bearermcp.Require(bearermcp.TokenVerifier(v), opts)(h))
		return mux
	}) + "/mcp"
}

// The SDK's own client, with a client-credentials token, reaches a tool
// handler that reads bouncer's claims.
func TestMCPClient(t *testing.T) {
	iss := newIssuer(t)
	endpoint := newMCPServer(t, newVerifier(t, iss))
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()

	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v1"}, nil)
	transport := &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: clientCredentials(iss, "svc", "svc-secret", scopeRead).Client(ctx)}
	session, err := client.Connect(ctx, transport, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer session.Close()
	res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
	if err != nil || len(res.Content) != 1 || res.Content[0].(*mcp.TextContent).Text != "svc" {
		t.Fatalf("%+v, %v", res, err)
	}

	limited := &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: clientCredentials(iss, "limited", "limited-secret").Client(ctx)}
	if _, err := client.Connect(ctx, limited, nil); err == nil || !strings.Contains(err.Error(), "Forbidden") {
		t.Fatalf("a token without %s: %v", scopeRead, err)
	}
}

// The SDK binds a session to the TokenInfo's UserID: another client's token
// cannot use it.
func TestSessionBoundToCaller(t *testing.T) {
	iss := newIssuer(t)
	iss.AddClient("other", "other-secret", scopeRead)
	endpoint := newMCPServer(t, newVerifier(t, iss))
	mine := clientToken(t, iss, "svc", "svc-secret", scopeRead)
	theirs := clientToken(t, iss, "other", "other-secret", scopeRead)

	resp := post(t, endpoint, mine, "", `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"test","version":"v1"}}}`)
	session := resp.Header.Get("Mcp-Session-Id")
	if resp.StatusCode != http.StatusOK || session == "" {
		t.Fatalf("initialize: %d, session %q", resp.StatusCode, session)
	}
	initialized := `{"jsonrpc":"2.0","method":"notifications/initialized"}`
	if resp := post(t, endpoint, theirs, session, initialized); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("another client in the session: %d", resp.StatusCode)
	}
	if resp := post(t, endpoint, mine, session, initialized); resp.StatusCode != http.StatusAccepted {
		t.Fatalf("the session's own client: %d", resp.StatusCode)
	}
}

func post(t *testing.T, url, token, session, body string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if session != "" {
		req.Header.Set("Mcp-Session-Id", session)
		req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}
