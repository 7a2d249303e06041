package mcpapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// Run serves the MCP server on l until ctx is done, then stops gracefully.
// Like the HTTP examples it starts the development issuer when cfg names no
// issuer, but prints instructions for an MCP client. The resource
// identifier is cfg.ResourceURL, or the URL of l.
func Run(ctx context.Context, l net.Listener, cfg countryapi.Config, logger *slog.Logger, out io.Writer) error {
	defer l.Close()
	base := countryapi.BaseURL(l.Addr())
	resource := cfg.ResourceURL
	if resource == "" {
		resource = base
	}
	var dev *countryapi.DevIssuer
	if cfg.Dev() {
		var err error
		if dev, err = countryapi.StartDevIssuer(cfg.Audiences[0], false); err != nil {
			return err
		}
		defer dev.Close()
		cfg.IssuerURL, cfg.IssuerURLs = dev.URL(), []string{dev.URL()}
	}
	v, stop, err := countryapi.Setup(ctx, cfg, logger, out, "")
	if err != nil {
		return err
	}
	defer stop()
	server := newServer(logger)
	h, err := newHandler(v.Checker, server, resource, logger)
	if err != nil {
		return err
	}
	if dev != nil {
		announce(dev, logger, out, base+Path, base+(&bearer.ResourceMetadata{Resource: resource}).Path())
	}
	srv := countryapi.HTTPServer(h, logger, func() { closeSessions(server) })
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

// announce warns that the development issuer runs, and prints its client's
// credentials with commands, ready to paste, that call the MCP server at
// endpoint and read its metadata.
func announce(dev *countryapi.DevIssuer, logger *slog.Logger, w io.Writer, endpoint, metadata string) {
	logger.Warn("no ISSUER_URL: started the embedded development issuer; FOR DEVELOPMENT ONLY, never in production (set ISSUER_URL and AUDIENCE to use a real issuer)",
		"issuer", dev.URL(), "client_id", dev.ClientID, "audience", dev.Audience)
	fmt.Fprintf(w, `
Development issuer (for development only, never in production)
  issuer:         %[1]s
  token endpoint: %[2]s
  client_id:      %[3]s
  client_secret:  %[4]s
  audience:       %[5]s
  scopes:         %[6]s %[7]s

MCP server (streamable HTTP)
  endpoint:       %[8]s
  metadata:       %[9]s
  tool:           %[10]s {"code":"AUS"}, needs scope %[6]s

Call the tool with the client example, an MCP client of the Go SDK:

  ISSUER_URL=%[1]s CLIENT_ID=%[3]s CLIENT_SECRET=%[4]s SCOPES=%[6]s MCP_URL=%[8]s go run ./examples/client

Or get a token (client_secret_basic) for an MCP client that sends an
Authorization header of your choice, such as the MCP Inspector
(npx @modelcontextprotocol/inspector, transport Streamable HTTP):

  TOKEN=$(curl -s -u '%[3]s:%[4]s' -d grant_type=client_credentials -d scope=%[6]s %[2]s | sed -E 's/.*"access_token":"([^"]*)".*/\1/')
  Authorization: Bearer $TOKEN

Without a token, the 401 points to the metadata:

  curl -i -X POST %[8]s
  curl -s %[9]s

`, dev.URL(), dev.TokenURL(), dev.ClientID, dev.ClientSecret, dev.Audience, countryapi.ScopeCountryRead, countryapi.ScopeCustomerRead, endpoint, metadata, countryapi.LookupCountryTool)
}
