package mcpapi

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
	"github.com/bouncer-go/bouncer/examples/internal/tokenclient"
)

// callTimeout bounds every call a test makes, so that a hung server fails
// the test instead of stalling the run.
const callTimeout = 15 * time.Second

// start runs the server as its command does, on a loopback port, until t
// ends, and returns its base URL and what it printed.
func start(t *testing.T, cfg countryapi.Config) (string, *exampletest.Output) {
	t.Helper()
	addr, out := exampletest.Start(t, Run, cfg)
	return countryapi.BaseURL(addr), out
}

// connect opens an MCP session at endpoint with the SDK's client, its
// requests carrying the tokens of cc.
func connect(t *testing.T, endpoint string, cc *clientcredentials.Config) (*mcp.ClientSession, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	// The session outlives ctx: its HTTP client must not.
	httpClient := cc.Client(context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: callTimeout}))
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v1"}, nil)
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: httpClient}, nil)
	if err == nil {
		t.Cleanup(func() { _ = session.Close() })
	}
	return session, err
}

func lookup(t *testing.T, s *mcp.ClientSession, code string) *mcp.CallToolResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: countryapi.LookupCountryTool, Arguments: map[string]any{"code": code}})
	if err != nil {
		t.Fatalf("%s %s: %v", countryapi.LookupCountryTool, code, err)
	}
	return res
}

func text(res *mcp.CallToolResult) string {
	if len(res.Content) != 1 {
		return ""
	}
	t, _ := res.Content[0].(*mcp.TextContent)
	return t.Text
}

// send sends method to url with no token, as a client that has not
// authenticated yet does, and returns the answer.
func send(t *testing.T, method, url string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// metadata reads the RFC 9728 document at url.
func metadata(t *testing.T, url string) bearer.ResourceMetadata {
	t.Helper()
	resp, body := send(t, http.MethodGet, url)
	var md bearer.ResourceMetadata
	if err := json.Unmarshal(body, &md); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("metadata at %s: %d %s: %v", url, resp.StatusCode, body, err)
	}
	return md
}

func TestRun(t *testing.T) {
	iss, err := bearertest.NewIssuer(
		bearertest.WithAudience(countryapi.DevAudience),
		bearertest.WithClient("country-client", "s3cret", countryapi.ScopeCountryRead),
		bearertest.WithClient("limited-client", "limited", countryapi.ScopeCustomerRead),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	base, _ := start(t, countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{countryapi.DevAudience}})
	endpoint, metadataURL := base+Path, base+bearer.WellKnownMetadataPath
	challenge := `Bearer resource_metadata="` + metadataURL + `", scope="country.read"`

	t.Run("granted", func(t *testing.T) {
		s, err := connect(t, endpoint, &clientcredentials.Config{ClientID: "country-client", ClientSecret: "s3cret", TokenURL: iss.TokenURL(), Scopes: []string{countryapi.ScopeCountryRead}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
		defer cancel()
		tools, err := s.ListTools(ctx, nil)
		if err != nil || len(tools.Tools) != 1 || tools.Tools[0].Name != countryapi.LookupCountryTool {
			t.Fatalf("tools: %+v, %v", tools, err)
		}
		if schema, _ := json.Marshal(tools.Tools[0].InputSchema); !strings.Contains(string(schema), `"required":["code"]`) {
			t.Errorf("input schema %s", schema)
		}
		for code, want := range map[string]string{"AUS": `{"code":"AUS","name":"AUSTRALIA"}`, "nzl": `{"code":"NZL","name":"NEW ZEALAND"}`} {
			if res := lookup(t, s, code); res.IsError || text(res) != want {
				t.Errorf("%s: %+v; want %s", code, res, want)
			}
		}
		if res := lookup(t, s, "XYZ"); !res.IsError || !strings.Contains(text(res), "no country has this code") {
			t.Errorf("unknown code: %+v", res)
		}
	})

	t.Run("no token", func(t *testing.T) {
		resp, body := send(t, http.MethodPost, endpoint)
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != challenge {
			t.Fatalf("%d, WWW-Authenticate %q, %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
	})

	t.Run("no country.read", func(t *testing.T) {
		cc := &clientcredentials.Config{ClientID: "limited-client", ClientSecret: "limited", TokenURL: iss.TokenURL()}
		if _, err := connect(t, endpoint, cc); err == nil || !strings.Contains(err.Error(), "Forbidden") {
			t.Fatalf("connect: %v; want Forbidden", err)
		}
		tok, err := cc.Token(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The SDK's scope check: 403, a challenge naming the scope and the
		// metadata, and a plain-text body.
		if resp.StatusCode != http.StatusForbidden || resp.Header.Get("WWW-Authenticate") != challenge || strings.TrimSpace(string(body)) != "insufficient scope" {
			t.Fatalf("%d, WWW-Authenticate %q, %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		md := metadata(t, metadataURL)
		if md.Resource != base || !slices.Equal(md.AuthorizationServers, []string{iss.URL()}) ||
			!slices.Contains(md.ScopesSupported, countryapi.ScopeCountryRead) || !slices.Equal(md.BearerMethodsSupported, []string{"header"}) {
			t.Fatalf("%+v", md)
		}
	})
}

// TestRunDevIssuer runs the server with no ISSUER_URL, as `go run
// ./examples/mcp` does, and follows the printed instructions.
func TestRunDevIssuer(t *testing.T) {
	cfg, err := countryapi.ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	base, out := start(t, cfg)
	endpoint := base + Path

	// Served means announced: Run prints before it serves.
	md := metadata(t, base+bearer.WellKnownMetadataPath)
	printed := out.String()
	issuer := exampletest.Field(t, printed, "issuer")
	for _, want := range []string{"for development only", "endpoint:       " + endpoint, "MCP_URL=" + endpoint + " go run ./examples/client", "curl -i -X POST " + endpoint} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	if !slices.Equal(md.AuthorizationServers, []string{issuer}) {
		t.Errorf("authorization servers %v; want the development issuer %s", md.AuthorizationServers, issuer)
	}
	if resp, _ := send(t, http.MethodPost, endpoint); resp.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(resp.Header.Get("WWW-Authenticate"), `resource_metadata="`+exampletest.Field(t, printed, "metadata")+`"`) {
		t.Errorf("without a token: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}

	var got strings.Builder
	cc := tokenclient.Config{IssuerURL: issuer, ClientID: countryapi.DevClientID, ClientSecret: exampletest.Field(t, printed, "client_secret"), Scopes: []string{countryapi.ScopeCountryRead}, MCPURL: endpoint}
	if err := tokenclient.Run(t.Context(), cc, nil, &got); err != nil || !strings.Contains(got.String(), `{"code":"AUS","name":"AUSTRALIA"}`) {
		t.Fatalf("the client example: %v\n%s", err, got.String())
	}
}

// The resource identifier is configured: behind a proxy the metadata and
// the challenges name the public URL, whatever Host the request carries.
func TestRunResourceURL(t *testing.T) {
	cfg, err := countryapi.ConfigFromEnv(func(k string) string {
		return map[string]string{"RESOURCE_URL": "https://mcp.example.com/mcp"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	base, _ := start(t, cfg)
	md := metadata(t, base+bearer.WellKnownMetadataPath+"/mcp")
	if md.Resource != "https://mcp.example.com/mcp" {
		t.Errorf("resource %s", md.Resource)
	}
	resp, _ := send(t, http.MethodPost, base+Path)
	if want := `resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`; !strings.Contains(resp.Header.Get("WWW-Authenticate"), want) {
		t.Errorf("WWW-Authenticate %q; want %s", resp.Header.Get("WWW-Authenticate"), want)
	}
}

func TestRunRefusesBadResourceURL(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := countryapi.Config{Audiences: []string{countryapi.DevAudience}, ResourceURL: "http://mcp.example.com"}
	if err := Run(t.Context(), l, cfg, slog.New(slog.DiscardHandler), io.Discard); err == nil || !strings.Contains(err.Error(), "resource") {
		t.Fatalf("Run = %v; want an error about the resource", err)
	}
}

// A client's event stream never goes idle: stopping must end the sessions
// rather than wait out the shutdown timeout.
func TestRunStopsWithSessionsOpen(t *testing.T) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(countryapi.DevAudience), bearertest.WithClient("country-client", "s3cret", countryapi.ScopeCountryRead))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	cfg := countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{countryapi.DevAudience}}
	go func() { done <- Run(ctx, l, cfg, slog.New(slog.DiscardHandler), io.Discard) }()

	cc := &clientcredentials.Config{ClientID: "country-client", ClientSecret: "s3cret", TokenURL: iss.TokenURL(), Scopes: []string{countryapi.ScopeCountryRead}}
	s, err := connect(t, countryapi.BaseURL(l.Addr())+Path, cc)
	if err != nil {
		t.Fatal(err)
	}
	lookup(t, s, "AUS") // the session is up, its event stream too
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(countryapi.ShutdownTimeout / 2):
		t.Fatal("still stopping: the open session holds the shutdown")
	}
}
