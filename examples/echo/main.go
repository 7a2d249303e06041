// Command echo is the country API of bouncer's examples on Echo: a
// resource server that accepts OAuth2 client-credentials access tokens. It
// answers exactly as the net/http example does.
//
//	GET /country/code/:code  needs a token with scope country.read
//	GET /api/data            needs any valid token; echoes what it says
//	GET /healthz             open; reports whether the issuer's keys are loaded
//
// Environment: ISSUER_URL and AUDIENCE (comma-separated) name the issuer
// and this API's audience; ADDR is the listen address (default :8091);
// LOG_LEVEL=debug logs every refusal (info, the default, a summary).
// Without ISSUER_URL an embedded development issuer is started and the
// commands to try the API with curl are printed.
//
// The routes are in package echoapi.
package main

import (
	"github.com/bouncer-go/bouncer/examples/echo/echoapi"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

func main() { countryapi.Main(echoapi.Run) }
