package tokenclient

import (
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/connect/connectapi"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
)

// startConnect runs the Connect country API, trusting iss, on a loopback
// port until t ends, and returns its base URL.
func startConnect(t *testing.T, iss *bearertest.Issuer) string {
	t.Helper()
	addr, _ := exampletest.Start(t, connectapi.Run, countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{"country-api"}})
	return countryapi.BaseURL(addr)
}

// The client calls the Connect API over Connect and gRPC-Web with
// CONNECT_URL, and over gRPC with GRPC_ADDR; each prints the answer, or
// the code and the challenge of the refusal.
func TestRunConnect(t *testing.T) {
	iss, _ := setup(t)
	base := startConnect(t, iss)
	granted := func(cfg Config) Config {
		cfg.TokenURL, cfg.ClientID, cfg.ClientSecret, cfg.Scopes = iss.TokenURL(), "country-client", specialSecret, []string{"country.read"}
		return cfg
	}
	limited := func(cfg Config) Config {
		cfg.TokenURL, cfg.ClientID, cfg.ClientSecret = iss.TokenURL(), "limited-client", "limited-secret"
		return cfg
	}
	for _, c := range []struct {
		name   string
		target Config
		ok     string // what a granted call prints
		denied string // how a refusal's code prints
		header string // how its challenge prints
	}{
		{"connect", Config{ConnectURL: base}, "GetCountry AUS at " + base + " (connect)\nok\n", "permission_denied", "WWW-Authenticate: "},
		{"grpc-web", Config{ConnectURL: base, ConnectProtocol: "grpcweb"}, "(grpcweb)\nok\n", "permission_denied", "WWW-Authenticate: "},
		{"grpc", Config{GRPCAddr: strings.TrimPrefix(base, "http://")}, "\nOK\n", "PermissionDenied", "www-authenticate: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			var out strings.Builder
			if err := Run(t.Context(), granted(c.target), testClient, &out); err != nil {
				t.Fatalf("Run: %v\n%s", err, out.String())
			}
			wantOutput(t, out.String(), c.ok, `{"code":"AUS","name":"AUSTRALIA"}`)

			out.Reset()
			err := Run(t.Context(), limited(c.target), testClient, &out)
			if err == nil || !strings.Contains(err.Error(), c.denied) {
				t.Fatalf("Run = %v, want a failure naming %s", err, c.denied)
			}
			wantOutput(t, out.String(), c.denied, c.header+`Bearer realm="country-api", error="insufficient_scope"`, `scope="country.read"`)
		})
	}
}
