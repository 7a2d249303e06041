package bearermcp_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/bouncer-go/bouncer/adapters/bearermcp"
	"github.com/bouncer-go/bouncer/core/bearer"
)

func TestMetadata(t *testing.T) {
	iss := newIssuer(t)
	// A verifier that also takes tokens from the query: MCP clients send
	// them in the Authorization header alone, and the document says so.
	cfg := bearer.Config{Issuer: iss.URL(), Audiences: []string{audience}, AllowQueryToken: true}
	var md *bearer.ResourceMetadata
	var err error
	base := serve(t, func(base string) http.Handler {
		if md, err = bearer.NewResourceMetadata(base+"/mcp", cfg); err != nil {
			t.Fatal(err)
		}
		md.ScopesSupported = []string{scopeRead}
		mux := http.NewServeMux()
		mux.Handle(md.Path(), bearermcp.Metadata(md))
		return mux
	})
	url := base + bearer.WellKnownMetadataPath + "/mcp"
	if opts, err := bearermcp.Options(md); err != nil || opts.ResourceMetadataURL != url {
		t.Fatalf("options %+v, %v; want resource_metadata %s", opts, err, url)
	}

	resp, body := get(t, url, "")
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s: %v", resp.StatusCode, body, err)
	}
	want := map[string]any{
		"resource":                 base + "/mcp",
		"authorization_servers":    []any{iss.URL()},
		"scopes_supported":         []any{scopeRead},
		"bearer_methods_supported": []any{"header"},
	}
	for k, w := range want {
		if got, _ := json.Marshal(doc[k]); string(got) != mustJSON(t, w) {
			t.Errorf("%s = %s; want %s", k, got, mustJSON(t, w))
		}
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", resp.Header)
	}
	if !slices.Equal(md.BearerMethodsSupported, []string{"header", "query"}) {
		t.Errorf("the handler changed md: %v", md.BearerMethodsSupported)
	}

	if resp, _ := do(t, http.MethodOptions, url, ""); resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := do(t, http.MethodPost, url, ""); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", resp.StatusCode)
	}
}

func TestOptionsRefusesBadResource(t *testing.T) {
	if _, err := bearermcp.Options(&bearer.ResourceMetadata{Resource: "http://mcp.example.com"}); err == nil {
		t.Fatal("http resource on a public host accepted")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
