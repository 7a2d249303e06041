package bearermcp_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/bouncer-go/bouncer/adapters/bearermcp"
	"github.com/bouncer-go/bouncer/core/bearer"
)

var _ bearermcp.Verifier = (*bearer.MultiVerifier)(nil)

func TestTokenVerifier(t *testing.T) {
	iss := newIssuer(t)
	verify := bearermcp.TokenVerifier(newVerifier(t, iss))
	ctx := t.Context()

	t.Run("accepted", func(t *testing.T) {
		info, err := verify(ctx, clientToken(t, iss, "svc", "svc-secret", scopeRead), nil)
		if err != nil {
			t.Fatal(err)
		}
		c, ok := bearermcp.Claims(info)
		if !ok || c.ClientID != "svc" {
			t.Fatalf("claims %+v, %v", c, ok)
		}
		if !slices.Equal(info.Scopes, []string{scopeRead}) || !info.Expiration.Equal(c.Expiry) || info.Expiration.Before(time.Now()) {
			t.Fatalf("scopes %v, expiration %v (claims %v)", info.Scopes, info.Expiration, c.Expiry)
		}
		if want := iss.URL() + " svc"; info.UserID != want {
			t.Fatalf("UserID %q; want %q", info.UserID, want)
		}
	})

	refused := []struct {
		name     string
		claims   map[string]any
		sentinel error
	}{
		{"expired", map[string]any{"iat": time.Now().Add(-time.Hour).Unix(), "exp": time.Now().Add(-10 * time.Minute).Unix()}, bearer.ErrExpired},
		{"wrong audience", map[string]any{"aud": "another-api"}, bearer.ErrAudience},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			info, err := verify(ctx, iss.MustMint(t, tc.claims), nil)
			var e *bearer.Error
			if info != nil || !errors.Is(err, auth.ErrInvalidToken) || !errors.Is(err, tc.sentinel) || !errors.As(err, &e) || e.Code != bearer.CodeInvalidToken {
				t.Fatalf("info %v, err %v", info, err)
			}
		})
	}

	t.Run("issuer down", func(t *testing.T) {
		down := newIssuer(t)
		down.SetDown(true)
		info, err := bearermcp.TokenVerifier(newVerifier(t, down))(ctx, down.MustMint(t, nil), nil)
		if info != nil || !errors.Is(err, bearer.ErrIssuerUnavailable) || errors.Is(err, auth.ErrInvalidToken) || errors.Is(err, auth.ErrOAuth) {
			t.Fatalf("info %v, err %v: the token was not judged, it must not look invalid", info, err)
		}
	})
}

// newGuarded serves a resource guarded as an MCP server is, whose handler
// answers with what it reads from the request's TokenInfo.
func newGuarded(t *testing.T, verify auth.TokenVerifier, require func(auth.TokenVerifier, *auth.RequireBearerTokenOptions) func(http.Handler) http.Handler) (base, metadataURL string) {
	t.Helper()
	base = serve(t, func(base string) http.Handler {
		md := &bearer.ResourceMetadata{Resource: base, ScopesSupported: []string{scopeRead}}
		opts, err := bearermcp.Options(md, scopeRead)
		if err != nil {
			t.Fatal(err)
		}
		metadataURL = opts.ResourceMetadataURL
		mux := http.NewServeMux()
		mux.Handle(md.Path(), bearermcp.Metadata(md))
		mux.Handle("/mcp", require(verify, opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			info := auth.TokenInfoFromContext(r.Context())
			c, _ := bearermcp.Claims(info)
			_ = json.NewEncoder(w).Encode(map[string]any{"client": c.ClientID, "user": info.UserID, "scopes": info.Scopes})
		})))
		return mux
	})
	return base, metadataURL
}

// TestRequire drives the SDK's middleware over HTTP, alone and as Require
// wraps it, and checks the answers it gives for bouncer's verdicts: the
// same from both.
func TestRequire(t *testing.T) {
	for name, require := range map[string]func(auth.TokenVerifier, *auth.RequireBearerTokenOptions) func(http.Handler) http.Handler{
		"Require":            bearermcp.Require,
		"RequireBearerToken": auth.RequireBearerToken,
	} {
		t.Run(name, func(t *testing.T) { testRequire(t, require) })
	}
}

func testRequire(t *testing.T, require func(auth.TokenVerifier, *auth.RequireBearerTokenOptions) func(http.Handler) http.Handler) {
	iss := newIssuer(t)
	base, metadataURL := newGuarded(t, bearermcp.TokenVerifier(newVerifier(t, iss)), require)
	challenge := fmt.Sprintf("Bearer resource_metadata=%q, scope=%q", metadataURL, scopeRead)
	if metadataURL != base+bearer.WellKnownMetadataPath {
		t.Fatalf("resource_metadata %s", metadataURL)
	}
	now := time.Now()

	cases := []struct {
		name      string
		token     string
		status    int
		body      string // a prefix
		challenge string
	}{
		{"granted", clientToken(t, iss, "svc", "svc-secret", scopeRead), 200, `{"client":"svc","scopes":["country.read"],"user":"` + iss.URL() + ` svc"}`, ""},
		{"no token", "", 401, "no bearer token", challenge},
		{"expired", iss.MustMint(t, map[string]any{"scope": scopeRead, "iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-10 * time.Minute).Unix()}), 401, "invalid token: bearer: token expired: the token expired at ", challenge},
		// Within bouncer's leeway: the SDK's own look at the expiry must not
		// overrule bouncer's.
		{"expired within the leeway", iss.MustMint(t, map[string]any{"scope": scopeRead, "client_id": "svc", "iat": now.Add(-time.Hour).Unix(), "exp": now.Add(-20 * time.Second).Unix()}), 200, `{"client":"svc"`, ""},
		{"wrong audience", iss.MustMint(t, map[string]any{"scope": scopeRead, "aud": "another-api"}), 401, "invalid token: bearer: wrong audience: the token is not meant for this API", challenge},
		{"garbage", "abc", 401, "invalid token: bearer: malformed token", challenge},
		{"missing scope", clientToken(t, iss, "limited", "limited-secret"), 403, "insufficient scope", challenge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, base+"/mcp", tc.token)
			if resp.StatusCode != tc.status || !strings.HasPrefix(body, tc.body) {
				t.Fatalf("%d %s; want %d %s", resp.StatusCode, body, tc.status, tc.body)
			}
			if got := resp.Header.Get("WWW-Authenticate"); got != tc.challenge {
				t.Fatalf("WWW-Authenticate %q; want %q", got, tc.challenge)
			}
		})
	}
}

// An issuer that cannot be reached leaves the token unjudged: 503 with
// Retry-After from Require, where the SDK alone answers 500.
func TestIssuerDown(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"scope": scopeRead})
	iss.SetDown(true)

	base, _ := newGuarded(t, bearermcp.TokenVerifier(newVerifier(t, iss)), bearermcp.Require)
	resp, body := get(t, base+"/mcp", tok)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp.Header.Get("WWW-Authenticate") != "" || !strings.HasPrefix(body, `{"error":"temporarily_unavailable"`) {
		t.Fatalf("WWW-Authenticate %q, body %s: the token was not judged", resp.Header.Get("WWW-Authenticate"), body)
	}

	sdkOnly, _ := newGuarded(t, bearermcp.TokenVerifier(newVerifier(t, iss)), auth.RequireBearerToken)
	if resp, body := get(t, sdkOnly+"/mcp", tok); resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("the SDK alone: %d %s", resp.StatusCode, body)
	}
}

// Entra puts an application's permissions in roles; they count as scopes
// only when named, so that Keycloak realm roles never do.
func TestWithAppPermission(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	tok := iss.MustMint(t, map[string]any{"roles": []string{"Country.Read.All"}, "realm_access": map[string]any{"roles": []string{"admin"}}, "scope": "customer.read"})

	mapped := bearermcp.TokenVerifier(v, bearermcp.WithAppPermission("Country.Read.All", scopeRead))
	for range 2 { // the second time from the cache: the claims are left as they were
		info, err := mapped(t.Context(), tok, nil)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := bearermcp.Claims(info)
		if !slices.Equal(info.Scopes, []string{"customer.read", scopeRead}) || !slices.Equal(c.Scopes, []string{"customer.read"}) {
			t.Fatalf("scopes %v, claims %v", info.Scopes, c.Scopes)
		}
	}
	info, err := bearermcp.TokenVerifier(v)(t.Context(), tok, nil)
	if err != nil || !slices.Equal(info.Scopes, []string{"customer.read"}) {
		t.Fatalf("without the option: %v, %v", info, err)
	}

	base, _ := newGuarded(t, mapped, bearermcp.Require)
	if resp, body := get(t, base+"/mcp", tok); resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

// A MultiVerifier is a Verifier: tokens of each issuer are accepted, and
// the same subject at two issuers is two users.
func TestMultiVerifier(t *testing.T) {
	a, b := newIssuer(t), newIssuer(t)
	m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{
		{Issuer: a.URL(), Audiences: []string{audience}},
		{Issuer: b.URL(), Audiences: []string{audience}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	verify := bearermcp.TokenVerifier(m)
	var users []string
	for _, tok := range []string{a.MustMint(t, map[string]any{"sub": "same"}), b.MustMint(t, map[string]any{"sub": "same"})} {
		info, err := verify(t.Context(), tok, nil)
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, info.UserID)
	}
	if users[0] == users[1] {
		t.Fatalf("one UserID for two issuers' subjects: %q", users[0])
	}
}

func TestTokenVerifierRefusesNil(t *testing.T) {
	var v *bearer.Verifier
	for _, given := range []bearermcp.Verifier{nil, v} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "bearermcp: TokenVerifier") {
					t.Fatalf("recovered %v", r)
				}
			}()
			bearermcp.TokenVerifier(given)
		}()
	}
}

func TestClaimsWithoutTokenInfo(t *testing.T) {
	if c, ok := bearermcp.Claims(nil); ok || c != nil {
		t.Fatal("claims from no TokenInfo")
	}
	if c, ok := bearermcp.Claims(&auth.TokenInfo{}); ok || c != nil {
		t.Fatal("claims from a TokenInfo of another verifier")
	}
}
