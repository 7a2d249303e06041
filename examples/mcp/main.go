// Command mcp is the country lookup of bouncer's examples as a Model
// Context Protocol server over streamable HTTP, for MCP clients that call
// it with OAuth2 access tokens.
//
//	POST/GET/DELETE /mcp                     the MCP endpoint; tool lookup_country needs scope country.read
//	GET /.well-known/oauth-protected-resource  open; the RFC 9728 metadata that 401s point to
//
// Environment: ISSUER_URL and AUDIENCE (comma-separated) name the issuer
// and this server's audience; ADDR is the listen address (default :8091);
// RESOURCE_URL is the resource identifier the metadata names (default the
// listener's URL, http://localhost:8091); LOG_LEVEL=debug logs every
// refusal (info, the default, a summary). Without ISSUER_URL an embedded
// development issuer is started and the commands to try the server are
// printed.
//
// The server is in package mcpapi.
package main

import (
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/mcp/mcpapi"
)

func main() { countryapi.Main(mcpapi.Run) }
