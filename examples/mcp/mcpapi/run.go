package mcpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// Run serves the MCP server on l until ctx is done, then stops gracefully.
// Like the HTTP examples it starts the development issuer when cfg names no
// issuer, but prints instructions for an MCP client. The resource
// identifier is cfg.ResourceURL, or the URL of l.
func Run(ctx context.Context, l net.Listener, cfg countryapi.Config, logger *slog.Logger, out io.Writer) error {
	defer l.Close()
	base := countryapi.BaseURL(l.Addr())
	var dev *countryapi.DevIssuer
	g, stop, err := countryapi.Setup(ctx, cfg, logger, base, func(d *countryapi.DevIssuer) { dev = d })
	if err != nil {
		return err
	}
	defer stop()
	endpoint, metadata := base+Path, base+g.Metadata.Path()
	if dev != nil {
		dev.Announce(logger, out, howTo(dev, endpoint, metadata))
	}
	server := newServer(logger)
	h, err := newHandler(g, server, logger)
	if err != nil {
		return err
	}
	srv := countryapi.HTTPServer(h, logger, func() { closeSessions(server) })
	logger.Info("MCP server listening", "endpoint", endpoint, "metadata", metadata)
	return countryapi.Serve(ctx, l, logger, srv.Serve, srv.Shutdown)
}

// closeSessions ends every MCP session, and with them their event
// streams, which would otherwise hold a graceful shutdown until its
// timeout.
func closeSessions(s *mcp.Server) {
	for ss := range s.Sessions() {
		_ = ss.Close()
	}
}

// howTo is how to call the MCP server at endpoint, and read its metadata,
// with the development issuer's client.
func howTo(dev *countryapi.DevIssuer, endpoint, metadata string) string {
	return fmt.Sprintf(`MCP server (streamable HTTP)
  endpoint:       %[1]s
  metadata:       %[2]s
  tool:           %[3]s {"code":"AUS"}, needs scope %[4]s

Call the tool with the client example, an MCP client of the Go SDK:

  %[5]s

Or get a token (client_secret_basic) for an MCP client that sends an
Authorization header of your choice, such as the MCP Inspector
(npx @modelcontextprotocol/inspector, transport Streamable HTTP):

  %[6]s
  Authorization: Bearer $TOKEN

Without a token, the 401 points to the metadata:

  curl -i -X POST %[1]s
  curl -s %[2]s

`, endpoint, metadata, countryapi.LookupCountryTool, countryapi.ScopeCountryRead, dev.ClientCommand("MCP_URL="+endpoint), dev.TokenCommand())
}
