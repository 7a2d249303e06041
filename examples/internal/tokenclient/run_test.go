package tokenclient

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// The special client's secret needs form-encoding in HTTP Basic
// credentials, which x/oauth2 does and the test issuer insists on.
const specialSecret = "s3cr3t:+/ %&=?#"

var testClient = &http.Client{Timeout: 15 * time.Second}

// setup starts an issuer and an API that needs scope country.read.
func setup(t *testing.T) (*bearertest.Issuer, string) {
	t.Helper()
	iss, err := bearertest.NewIssuer(
		bearertest.WithAudience("country-api"),
		bearertest.WithClient("country-client", specialSecret, "country.read"),
		bearertest.WithClient("limited-client", "limited-secret", "customer.read"),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}})
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(bearerhttp.New(v).RequireScope("country.read")(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"code":"AUS","name":"AUSTRALIA"}`))
		})))
	t.Cleanup(api.Close)
	return iss, api.URL + "/country/code/AUS"
}

func TestRun(t *testing.T) {
	iss, apiURL := setup(t)

	t.Run("discovered token endpoint", func(t *testing.T) {
		var out strings.Builder
		cfg := Config{IssuerURL: iss.URL(), ClientID: "country-client", ClientSecret: specialSecret, Scopes: []string{"country.read"}, APIURL: apiURL}
		if err := Run(t.Context(), cfg, testClient, &out); err != nil {
			t.Fatalf("Run: %v\n%s", err, out.String())
		}
		wantOutput(t, out.String(), "token endpoint (discovered): "+iss.TokenURL(), `scope "country.read"`, "200 OK", `{"code":"AUS","name":"AUSTRALIA"}`)
	})
	t.Run("audience parameter", func(t *testing.T) {
		// The issuer grants the audience asked for; the API, whose
		// audience is country-api, refuses a token for another.
		var out strings.Builder
		cfg := Config{IssuerURL: iss.URL(), ClientID: "country-client", ClientSecret: specialSecret, Audience: "other-api", APIURL: apiURL}
		if err := Run(t.Context(), cfg, testClient, &out); err == nil || !strings.Contains(out.String(), "401") {
			t.Fatalf("Run with AUDIENCE=other-api: %v\n%s", err, out.String())
		}
		out.Reset()
		cfg.Audience = "country-api"
		if err := Run(t.Context(), cfg, testClient, &out); err != nil {
			t.Fatalf("Run with AUDIENCE=country-api: %v\n%s", err, out.String())
		}
	})
	t.Run("token endpoint given", func(t *testing.T) {
		var out strings.Builder
		cfg := Config{TokenURL: iss.TokenURL(), ClientID: "country-client", ClientSecret: specialSecret, APIURL: apiURL}
		if err := Run(t.Context(), cfg, testClient, &out); err != nil {
			t.Fatalf("Run: %v\n%s", err, out.String())
		}
		if strings.Contains(out.String(), "discovered") {
			t.Errorf("discovery ran although TOKEN_URL was given:\n%s", out.String())
		}
		wantOutput(t, out.String(), "200 OK")
	})
	t.Run("wrong secret", func(t *testing.T) {
		var out strings.Builder
		cfg := Config{TokenURL: iss.TokenURL(), ClientID: "country-client", ClientSecret: "wrong-" + specialSecret, APIURL: apiURL}
		err := Run(t.Context(), cfg, testClient, &out)
		if err == nil || !strings.Contains(err.Error(), "invalid_client") {
			t.Fatalf("Run = %v, want invalid_client", err)
		}
		if strings.Contains(err.Error()+out.String(), specialSecret) {
			t.Errorf("the secret shows in the error or output")
		}
	})
	t.Run("refused by the API", func(t *testing.T) {
		var out strings.Builder
		cfg := Config{TokenURL: iss.TokenURL(), ClientID: "limited-client", ClientSecret: "limited-secret", APIURL: apiURL}
		err := Run(t.Context(), cfg, testClient, &out)
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("Run = %v, want a failure naming 403", err)
		}
		wantOutput(t, out.String(), "403 Forbidden", `scope="country.read"`)
	})
}

func wantOutput(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "eyJ") || strings.Contains(out, specialSecret) {
		t.Errorf("output shows the token or the secret:\n%s", out)
	}
}

func TestTokenEndpoint(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		issuer := "http://" + r.Host
		switch r.URL.Path {
		case "/good/.well-known/openid-configuration":
			_, _ = w.Write([]byte(`{"issuer":"` + issuer + `/good","token_endpoint":"` + issuer + `/good/token"}`))
		case "/spoofed/.well-known/openid-configuration":
			_, _ = w.Write([]byte(`{"issuer":"https://elsewhere.example","token_endpoint":"https://elsewhere.example/token"}`))
		case "/bare/.well-known/openid-configuration":
			_, _ = w.Write([]byte(`{"issuer":"` + issuer + `/bare"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)

	got, err := TokenEndpoint(t.Context(), testClient, srv.URL+"/good/")
	if err != nil || got != srv.URL+"/good/token" {
		t.Errorf("good: %q, %v", got, err)
	}
	for path, want := range map[string]string{
		"/spoofed": "names issuer",
		"/bare":    "no token_endpoint",
		"/missing": "404",
	} {
		if _, err := TokenEndpoint(t.Context(), testClient, srv.URL+path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want one containing %q", path, err, want)
		}
	}
}
