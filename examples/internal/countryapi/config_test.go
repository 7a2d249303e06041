package countryapi

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
)

func TestConfigFromEnv(t *testing.T) {
	for _, c := range []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string
	}{
		{
			name: "nothing set: development issuer",
			want: Config{Audiences: []string{DevAudience}, Addr: DefaultAddr},
		},
		{
			name: "development issuer with an audience",
			env:  map[string]string{"AUDIENCE": "orders-api", "ADDR": "127.0.0.1:9000", "RESOURCE_URL": " http://127.0.0.1:9000/mcp "},
			want: Config{Audiences: []string{"orders-api"}, Addr: "127.0.0.1:9000", ResourceURL: "http://127.0.0.1:9000/mcp"},
		},
		{
			name: "real issuer, several audiences",
			env:  map[string]string{"ISSUER_URL": " https://sso.example.com/realms/api ", "AUDIENCE": "country-api, https://api.example.com/ ,,"},
			want: Config{IssuerURL: "https://sso.example.com/realms/api", Audiences: []string{"country-api", "https://api.example.com/"}, Addr: DefaultAddr},
		},
		{
			name:    "real issuer needs an audience",
			env:     map[string]string{"ISSUER_URL": "https://sso.example.com/realms/api"},
			wantErr: "AUDIENCE is required when ISSUER_URL is set",
		},
		{
			name:    "blank audiences are none",
			env:     map[string]string{"ISSUER_URL": "https://sso.example.com", "AUDIENCE": " , "},
			wantErr: "AUDIENCE is required",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := ConfigFromEnv(func(k string) string { return c.env[k] })
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.IssuerURL != c.want.IssuerURL || got.Addr != c.want.Addr || got.ResourceURL != c.want.ResourceURL || !slices.Equal(got.Audiences, c.want.Audiences) {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if got.Dev() != (c.want.IssuerURL == "") {
				t.Errorf("Dev() = %v", got.Dev())
			}
		})
	}
}

func TestConfigFromEnvIssuersAndIntrospection(t *testing.T) {
	env := map[string]string{
		"ISSUER_URL":                  "https://sso.example.com/realms/a, https://login.microsoftonline.com/{tenantid}/v2.0",
		"TENANTS":                     "t1,t2",
		"AUDIENCE":                    "country-api",
		"RESOURCE_URL":                "https://api.example.com",
		"INTROSPECTION_CLIENT_ID":     "api",
		"INTROSPECTION_CLIENT_SECRET": "s",
		"INTROSPECTION_MAX_AGE":       "30s",
		"INTROSPECTION_ALL_TOKENS":    "1",
		"REDIS_URL":                   "redis://127.0.0.1:6379/0",
		"DEV_TOKENS":                  "opaque",
	}
	cfg, err := ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.IssuerURL != "https://sso.example.com/realms/a" || len(cfg.IssuerURLs) != 2 || !slices.Equal(cfg.Tenants, []string{"t1", "t2"}) ||
		cfg.ResourceURL != "https://api.example.com" || cfg.Introspection.ClientID != "api" || cfg.Introspection.MaxAge.String() != "30s" || !cfg.Introspection.AllTokens ||
		cfg.RedisURL == "" || !cfg.OpaqueDevTokens {
		t.Fatalf("%+v", cfg)
	}
	for name, bad := range map[string]map[string]string{
		"secret without id":  {"INTROSPECTION_CLIENT_SECRET": "s"},
		"unknown DEV_TOKENS": {"DEV_TOKENS": "paseto"},
		"bad max age":        {"INTROSPECTION_CLIENT_ID": "a", "INTROSPECTION_CLIENT_SECRET": "s", "INTROSPECTION_MAX_AGE": "soon"},
		"bad all tokens":     {"INTROSPECTION_CLIENT_ID": "a", "INTROSPECTION_CLIENT_SECRET": "s", "INTROSPECTION_ALL_TOKENS": "yes"},
	} {
		if _, err := ConfigFromEnv(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The development issuer can issue opaque tokens, which the API then
// introspects.
func TestOpaqueDevTokens(t *testing.T) {
	dev, err := StartDevIssuer(DevAudience, true)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	cfg := Config{IssuerURL: dev.URL(), Audiences: []string{DevAudience}, Introspection: Introspection{ClientID: DevAPIClientID, ClientSecret: dev.APISecret}}
	g, err := NewGuard(cfg, slog.New(slog.DiscardHandler), "http://localhost:8091")
	if err != nil {
		t.Fatal(err)
	}
	tok := dev.issuer.MintOpaque(map[string]any{"scope": ScopeCountryRead})
	if strings.Count(tok, ".") == 2 {
		t.Fatalf("%q is a JWT", tok)
	}
	c, err := g.Checker.(interface {
		Verify(context.Context, string) (*bearer.Claims, error)
	}).Verify(t.Context(), tok)
	if err != nil || !c.HasScope(ScopeCountryRead) {
		t.Fatalf("%v %v", c, err)
	}
}

func TestLogLevel(t *testing.T) {
	for v, want := range map[string]slog.Level{"": slog.LevelInfo, "debug": slog.LevelDebug, " DEBUG ": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		got, err := LogLevel(func(string) string { return v })
		if err != nil || got != want {
			t.Errorf("LOG_LEVEL=%q: %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := LogLevel(func(string) string { return "verbose" }); err == nil || !strings.Contains(err.Error(), "LOG_LEVEL") {
		t.Errorf("LOG_LEVEL=verbose: %v", err)
	}
}

func TestAllowedClients(t *testing.T) {
	cfg, err := ConfigFromEnv(func(k string) string {
		return map[string]string{"ALLOWED_CLIENTS": " billing, reporting ,,"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.AllowedClients, []string{"billing", "reporting"}) {
		t.Fatalf("AllowedClients = %q", cfg.AllowedClients)
	}
	billing := &bearer.Claims{ClientID: "billing", Scopes: []string{ScopeCountryRead}}
	other := &bearer.Claims{ClientID: "web", Scopes: []string{ScopeCountryRead}}
	if err := countryPolicy(cfg).Authorize(billing); err != nil {
		t.Fatalf("an allowed client: %v", err)
	}
	if err := countryPolicy(cfg).Authorize(other); err == nil {
		t.Fatal("another client was allowed")
	}
	if err := countryPolicy(Config{}).Authorize(other); err != nil {
		t.Fatalf("without ALLOWED_CLIENTS: %v", err)
	}
	if got := bearer.ScopesOf(countryPolicy(cfg)); !slices.Equal(got, []string{ScopeCountryRead}) {
		t.Fatalf("ScopesOf = %v", got)
	}
}
