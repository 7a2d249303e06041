package tokenclient

import (
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
	"github.com/bouncer-go/bouncer/examples/mcp/mcpapi"
)

// startMCP runs the MCP country server, trusting iss, on a loopback port
// until t ends, and returns its endpoint.
func startMCP(t *testing.T, iss *bearertest.Issuer) string {
	t.Helper()
	addr, _ := exampletest.Start(t, mcpapi.Run, countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{"country-api"}})
	return countryapi.BaseURL(addr) + mcpapi.Path
}

func TestRunMCP(t *testing.T) {
	iss, _ := setup(t)
	endpoint := startMCP(t, iss)

	t.Run("granted", func(t *testing.T) {
		var out strings.Builder
		cfg := Config{TokenURL: iss.TokenURL(), ClientID: "country-client", ClientSecret: specialSecret, Scopes: []string{"country.read"}, MCPURL: endpoint}
		if err := Run(t.Context(), cfg, testClient, &out); err != nil {
			t.Fatalf("Run: %v\n%s", err, out.String())
		}
		wantOutput(t, out.String(), "lookup_country AUS at "+endpoint, `{"code":"AUS","name":"AUSTRALIA"}`)
	})
	t.Run("refused by the server", func(t *testing.T) {
		var out strings.Builder
		cfg := Config{TokenURL: iss.TokenURL(), ClientID: "limited-client", ClientSecret: "limited-secret", MCPURL: endpoint}
		if err := Run(t.Context(), cfg, testClient, &out); err == nil || !strings.Contains(err.Error(), "Forbidden") {
			t.Fatalf("Run = %v, want a failure naming Forbidden", err)
		}
	})
}
