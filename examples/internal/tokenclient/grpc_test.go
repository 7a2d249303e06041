package tokenclient

import (
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/grpc/grpcapi"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
)

// startGRPC runs the gRPC country API, trusting iss, on a loopback port
// until t ends, and returns its address.
func startGRPC(t *testing.T, iss *bearertest.Issuer) string {
	t.Helper()
	addr, _ := exampletest.Start(t, grpcapi.Run, countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{"country-api"}})
	return grpcapi.Target(addr)
}

func TestRunGRPC(t *testing.T) {
	iss, _ := setup(t)
	addr := startGRPC(t, iss)

	t.Run("granted", func(t *testing.T) {
		var out strings.Builder
		cfg := Config{TokenURL: iss.TokenURL(), ClientID: "country-client", ClientSecret: specialSecret, Scopes: []string{"country.read"}, GRPCAddr: addr}
		if err := Run(t.Context(), cfg, testClient, &out); err != nil {
			t.Fatalf("Run: %v\n%s", err, out.String())
		}
		wantOutput(t, out.String(), "GetCountry AUS at "+addr, "\nOK\n", `{"code":"AUS","name":"AUSTRALIA"}`)
	})
	t.Run("refused by the API", func(t *testing.T) {
		var out strings.Builder
		cfg := Config{TokenURL: iss.TokenURL(), ClientID: "limited-client", ClientSecret: "limited-secret", GRPCAddr: addr}
		err := Run(t.Context(), cfg, testClient, &out)
		if err == nil || !strings.Contains(err.Error(), "PermissionDenied") {
			t.Fatalf("Run = %v, want a failure naming PermissionDenied", err)
		}
		wantOutput(t, out.String(), "PermissionDenied", `www-authenticate: Bearer realm="country-api", error="insufficient_scope"`, `scope="country.read"`)
	})
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"localhost:8091":      true,
		"LOCALHOST:8091":      true,
		"127.0.0.1:8091":      true,
		"127.1.2.3:8091":      true,
		"[::1]:8091":          true,
		"10.0.0.1:8091":       false,
		"api.example.com:443": false,
		"localhost":           false,
	} {
		if got := isLoopback(addr); got != want {
			t.Errorf("isLoopback(%q) = %v, want %v", addr, got, want)
		}
	}
}
