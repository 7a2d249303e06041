// Command gin is the country API of bouncer's examples on Gin: a resource
// server that accepts OAuth2 client-credentials access tokens. It answers
// exactly as the net/http example does.
//
//	GET /country/code/:code  needs a token with scope country.read
//	GET /api/data            needs any valid token; echoes what it says
//	GET /healthz             open; reports whether the issuer's keys are loaded
//
// Environment: ISSUER_URL and AUDIENCE (comma-separated) name the issuer
// and this API's audience; ADDR is the listen address (default :8091);
// LOG_LEVEL=debug logs every refusal (info, the default, a summary).
// Without ISSUER_URL an embedded development issuer is started and the
// commands to try the API with curl are printed. GIN_MODE=debug turns on
// Gin's debug output.
//
// The routes are in package ginapi.
package main

import (
	"os"

	"github.com/gin-gonic/gin"

	"github.com/bouncer-go/bouncer/examples/gin/ginapi"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

func main() {
	// Gin starts in debug mode, which prints every route and a warning to
	// stdout, among the development issuer's instructions.
	if os.Getenv(gin.EnvGinMode) == "" {
		gin.SetMode(gin.ReleaseMode)
	}
	countryapi.Main(ginapi.Run)
}
