package countryapi

import (
	"slices"
	"strings"
	"testing"
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
