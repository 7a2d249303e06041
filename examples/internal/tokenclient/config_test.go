package tokenclient

import (
	"slices"
	"strings"
	"testing"
)

func TestConfigFromEnv(t *testing.T) {
	env := map[string]string{
		"ISSUER_URL":    "https://sso.example.com",
		"CLIENT_ID":     "country-client",
		"CLIENT_SECRET": "s e:c",
		"SCOPES":        "country.read, customer.read  orders.read",
		"RESOURCE":      "urn:example:api",
		"AUDIENCE":      "country-api",
		"MCP_URL":       " http://localhost:8091/mcp ",
	}
	got, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if got.IssuerURL != env["ISSUER_URL"] || got.ClientID != "country-client" || got.ClientSecret != "s e:c" ||
		got.Resource != "urn:example:api" || got.Audience != "country-api" || got.APIURL != DefaultAPIURL || got.MCPURL != "http://localhost:8091/mcp" ||
		!slices.Equal(got.Scopes, []string{"country.read", "customer.read", "orders.read"}) {
		t.Errorf("got %+v", got)
	}

	for _, c := range []struct {
		name, drop, want string
	}{
		{"no issuer", "ISSUER_URL", "ISSUER_URL"},
		{"no client ID", "CLIENT_ID", "CLIENT_ID"},
		{"no secret", "CLIENT_SECRET", "CLIENT_SECRET"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ConfigFromEnv(func(k string) string {
				if k == c.drop {
					return ""
				}
				return env[k]
			})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want one naming %s", err, c.want)
			}
		})
	}
}

func TestConfigFromEnvConnect(t *testing.T) {
	env := map[string]string{"TOKEN_URL": "https://sso.example.com/token", "CLIENT_ID": "c", "CLIENT_SECRET": "s", "CONNECT_URL": " http://localhost:8091 "}
	for protocol, ok := range map[string]bool{"": true, "connect": true, "grpcweb": true, "grpc": false, "GRPCWEB": false} {
		env["CONNECT_PROTOCOL"] = protocol
		got, err := ConfigFromEnv(func(k string) string { return env[k] })
		if ok && (err != nil || got.ConnectURL != "http://localhost:8091" || got.ConnectProtocol != protocol) {
			t.Errorf("CONNECT_PROTOCOL=%q: %+v, %v", protocol, got, err)
		}
		if !ok && (err == nil || !strings.Contains(err.Error(), "CONNECT_PROTOCOL")) {
			t.Errorf("CONNECT_PROTOCOL=%q: err = %v, want one naming CONNECT_PROTOCOL", protocol, err)
		}
	}
}
