package bearermcp

import (
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Metadata serves md, for the router to mount at md.Path(). MCP clients
// read it to learn which issuers to get a token from and which scopes to
// ask for. It is served to any origin, since browser-based clients (the MCP
// Inspector…) fetch it from theirs and it holds nothing secret (RFC 9728
// §3), and it names "header" as the only bearer method, whatever md says:
// the SDK reads tokens from the Authorization header alone, as the MCP
// spec requires.
func Metadata(md *bearer.ResourceMetadata) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		m := *md
		m.BearerMethodsSupported = []string{"header"}
		m.ServeHTTP(w, r)
	})
}

// Options are the SDK middleware's options for the resource md describes:
// 401 and 403 challenges name md.URL() as resource_metadata, and the token
// must carry every one of scopes. The SDK checks the expiry once more,
// after bouncer has, against its own clock and with ClockSkew: ClockSkew is
// the most leeway bouncer allows and missing expirations are allowed
// (opaque tokens may have none), so that the expiry stays bouncer's to
// judge, with Config.Leeway. The error is md's, when its resource is not a
// usable URL.
func Options(md *bearer.ResourceMetadata, scopes ...string) (*auth.RequireBearerTokenOptions, error) {
	if _, err := bearer.NewResourceMetadata(md.Resource); err != nil {
		return nil, err
	}
	return &auth.RequireBearerTokenOptions{
		ResourceMetadataURL:    md.URL(),
		Scopes:                 scopes,
		ClockSkew:              bearer.MaxLeeway,
		AllowMissingExpiration: true,
	}, nil
}
