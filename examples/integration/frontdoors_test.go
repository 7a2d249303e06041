package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/examples/grpc/grpcapi"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
	"github.com/bouncer-go/bouncer/examples/internal/tokenclient"
	"github.com/bouncer-go/bouncer/examples/mcp/mcpapi"
)

// doors are every example API started with one configuration: the six
// HTTP servers (in the order of examples), the gRPC server and the MCP
// server.
type doors struct {
	http []string // base URLs
	grpc string   // address to dial
	mcp  string   // MCP endpoint URL
}

func startDoors(t *testing.T, cfg countryapi.Config) doors {
	t.Helper()
	d := doors{http: startAll(t, cfg)}
	addr, _ := exampletest.Start(t, grpcapi.Run, cfg)
	d.grpc = grpcapi.Target(addr)
	addr, _ = exampletest.Start(t, mcpapi.Run, cfg)
	d.mcp = countryapi.BaseURL(addr) + mcpapi.Path
	return d
}

// clientCall runs the client example, as `go run ./examples/client` with
// env, against the gRPC server (door "grpc") or the MCP server ("mcp").
// It returns what the client printed and its error.
func (d doors) clientCall(t *testing.T, hc *http.Client, door string, env map[string]string) (string, error) {
	t.Helper()
	e := map[string]string{}
	for k, v := range env {
		e[k] = v
	}
	switch door {
	case "grpc":
		e["GRPC_ADDR"] = d.grpc
	case "mcp":
		e["MCP_URL"] = d.mcp
	default:
		t.Fatalf("no door %q", door)
	}
	cfg, err := tokenclient.ConfigFromEnv(func(k string) string { return e[k] })
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = tokenclient.Run(t.Context(), cfg, hc, &out)
	if strings.Contains(out.String(), "eyJ") {
		t.Errorf("the client printed a token:\n%s", out.String())
	}
	return out.String(), err
}

// wantLookup checks that the client example's call through door answered
// the country lookup.
func (d doors) wantLookup(t *testing.T, hc *http.Client, door string, env map[string]string) {
	t.Helper()
	out, err := d.clientCall(t, hc, door, env)
	if err != nil || !strings.Contains(out, ausJSON) {
		t.Errorf("%s: %v; output:\n%s", door, err, out)
	}
}

// wantRefused checks that the call through door was refused, the gRPC
// status or the HTTP status of the MCP answer named in the client's error.
func (d doors) wantRefused(t *testing.T, hc *http.Client, door string, env map[string]string, grpcCode, mcpStatus string) {
	t.Helper()
	out, err := d.clientCall(t, hc, door, env)
	want := grpcCode
	if door == "mcp" {
		want = mcpStatus
	}
	if err == nil || !strings.Contains(err.Error()+out, want) {
		t.Errorf("%s: %v, want a refusal naming %s; output:\n%s", door, err, want, out)
	}
}
