// Command connect is the country API of bouncer's examples over Connect
// RPC (connectrpc.com/connect/v2): one handler that Connect, gRPC and
// gRPC-Web clients call alike, with OAuth2 client-credentials access
// tokens in the Authorization header (or DPoP-bound ones with their
// proofs).
//
//	POST /country.v1.CountryService/GetCountry  needs a token with scope country.read
//	GET  /healthz                               open
//	GET  /.well-known/oauth-protected-resource  the RFC 9728 metadata, open
//
// Environment: ISSUER_URL and AUDIENCE (comma-separated) name the issuer
// and this API's audience; ADDR is the listen address (default :8091);
// RESOURCE_URL, PUBLIC_URL, DPOP, the introspection settings, DEV_TOKENS
// and LOG_LEVEL as for the HTTP examples. Without ISSUER_URL an embedded
// development issuer is started and the commands to try the API are
// printed. The server speaks HTTP/1.1 and, for gRPC clients, HTTP/2
// without TLS (h2c): put it behind a TLS-terminating proxy, or serve TLS,
// beyond loopback.
//
// The service is in package connectapi, its protocol in
// examples/grpc/countrypb (countrypbconnect).
package main

import (
	"github.com/bouncer-go/bouncer/examples/connect/connectapi"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

func main() { countryapi.Main(connectapi.Run) }
