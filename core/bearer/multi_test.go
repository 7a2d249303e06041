package bearer_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

func TestMultiVerifierRoutesByIssuer(t *testing.T) {
	keycloak := newIssuer(t, bearertest.WithIssuerPath("/realms/services"))
	entra := newIssuer(t, bearertest.WithTenants())
	stranger := newIssuer(t)
	m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{
		{Issuer: keycloak.URL(), Audiences: []string{testAudience}, Logger: quiet},
		{Issuer: entra.URL(), Audiences: []string{testAudience}, Logger: quiet},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		token  string
		issuer string
	}{
		{"Keycloak", keycloak.MustMint(t, map[string]any{"scope": "country.read"}), keycloak.URL()},
		{"Entra tenant", entra.MustMint(t, map[string]any{"tid": "8a0671e2-3a30-4d30-9cb9-ad709b9c744a"}), entra.TenantIssuer("8a0671e2-3a30-4d30-9cb9-ad709b9c744a")},
		{"Entra default tenant", entra.MustMint(t, nil), entra.TenantIssuer(bearertest.DefaultTenant)},
	} {
		c, err := m.Verify(bg, tc.token)
		if err != nil || c.Issuer != tc.issuer {
			t.Fatalf("%s: %v, issuer %q", tc.name, err, c.Issuer)
		}
	}
	for _, tok := range []string{stranger.MustMint(t, nil), stranger.MustMint(t, map[string]any{"iss": nil})} {
		wantRefusal(t, verifyErr(m, tok), bearer.ErrIssuer, 401)
	}
	if n := stranger.DiscoveryFetches() + stranger.JWKSFetches(); n != 0 {
		t.Fatalf("an untrusted issuer was contacted %d times", n)
	}
	for _, iss := range []*bearertest.Issuer{keycloak, entra} {
		if d, k := iss.DiscoveryFetches(), iss.JWKSFetches(); d != 1 || k != 1 {
			t.Fatalf("%s: %d discovery and %d JWKS fetches; want 1 each", iss.URL(), d, k)
		}
	}
	// Claims from one issuer do not stand in for a token at a route of a
	// MultiVerifier that does not trust it.
	single := newVerifier(t, stranger)
	c, _ := single.Verify(bg, stranger.MustMint(t, nil))
	_, err = m.Check(bearer.NewContext(bg, c), withAuth())
	wantRefusal(t, err, bearer.ErrMissingToken, 401)
}

// One issuer's outage costs only its own tokens.
func TestMultiVerifierIssuersFailAlone(t *testing.T) {
	up, down := newIssuer(t), newIssuer(t)
	m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{
		{Issuer: up.URL(), Audiences: []string{testAudience}, Logger: quiet},
		{Issuer: down.URL(), Audiences: []string{testAudience}, Logger: quiet},
	}})
	if err != nil {
		t.Fatal(err)
	}
	downTok := down.MustMint(t, nil)
	down.SetDown(true)
	wantRefusal(t, verifyErr(m, downTok), bearer.ErrIssuerUnavailable, 503)
	if _, err := m.Verify(bg, up.MustMint(t, nil)); err != nil {
		t.Fatalf("the issuer that is up: %v", err)
	}
}

func TestMultiConfigIsChecked(t *testing.T) {
	iss := newIssuer(t)
	in := &bearer.Introspection{ClientID: "a", ClientSecret: "b"}
	for name, cfg := range map[string]bearer.MultiConfig{
		"no issuers":         {},
		"an issuer twice":    {Issuers: []bearer.Config{{Issuer: iss.URL(), Audiences: []string{"a"}}, {Issuer: iss.URL(), Audiences: []string{"b"}}}},
		"two introspections": {Issuers: []bearer.Config{{Issuer: iss.URL(), Audiences: []string{"a"}, Introspection: in}, {Issuer: iss.URL() + "/x", Audiences: []string{"a"}, Introspection: in}}},
		"a bad issuer":       {Issuers: []bearer.Config{{Issuer: "http://idp.example.com", Audiences: []string{"a"}}}},
	} {
		if _, err := bearer.NewMulti(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// Microsoft's rule: iss is the template with the token's own tid; a tenant
// allow-list narrows it.
func TestTenantTemplate(t *testing.T) {
	const (
		contoso  = "8a0671e2-3a30-4d30-9cb9-ad709b9c744a"
		fabrikam = "00000000-0000-0000-0000-000000000001"
		stranger = "99999999-0000-0000-0000-000000000009"
	)
	iss := newIssuer(t, bearertest.WithTenants())
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Tenants = []string{contoso, fabrikam} })
	md, err := bearer.NewResourceMetadata("https://api.example.com", bearer.Config{Issuer: iss.URL(), Tenants: []string{contoso, fabrikam}})
	if err != nil {
		t.Fatal(err)
	}
	if got := md.AuthorizationServers; len(got) != 2 || got[0] != iss.TenantIssuer(contoso) {
		t.Fatalf("authorization servers %v", got)
	}
	for _, tid := range []string{contoso, fabrikam} {
		if _, err := v.Verify(bg, iss.MustMint(t, map[string]any{"tid": tid})); err != nil {
			t.Fatalf("tenant %s: %v", tid, err)
		}
	}
	for name, claims := range map[string]map[string]any{
		"iss names another tenant than tid": {"tid": contoso, "iss": iss.TenantIssuer(fabrikam)},
		"tenant not on the list":            {"tid": stranger},
		"no tid":                            {"tid": nil, "iss": iss.TenantIssuer(contoso)},
		"tid that would change the URL":     {"tid": "a/../b", "iss": iss.TenantIssuer("a/../b")},
		"iss is the template itself":        {"tid": "{tenantid}", "iss": iss.URL()},
	} {
		t.Run(name, func(t *testing.T) {
			e := wantRefusal(t, verifyErr(v, iss.MustMint(t, claims)), bearer.ErrIssuer, 401)
			if name == "tenant not on the list" && !strings.Contains(e.Description, "tenants this API accepts") {
				t.Fatalf("description %q", e.Description)
			}
		})
	}
	if _, err := bearer.New(bearer.Config{Issuer: "https://login.microsoftonline.com/{tenantid}/{tenantid}", Audiences: []string{"a"}}); err == nil {
		t.Fatal("a template with two placeholders was accepted")
	}
	if _, err := bearer.New(bearer.Config{Issuer: "https://idp.example.com", Audiences: []string{"a"}, Tenants: []string{contoso}}); err == nil {
		t.Fatal("Tenants without a template was accepted")
	}
}

// Static keys: nothing is fetched, every check stays.
func TestStaticKeys(t *testing.T) {
	iss := newIssuer(t)
	jwks, _ := json.Marshal(iss.JWKS())
	tok := iss.MustMint(t, nil)
	wrongAud := iss.MustMint(t, map[string]any{"aud": "other"})
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	url := iss.URL()
	iss.Close()
	for _, edit := range []func(*bearer.Config){
		func(c *bearer.Config) { c.JWKS = jwks },
		func(c *bearer.Config) { c.JWKSFile = file },
	} {
		cfg := bearer.Config{Issuer: url, Audiences: []string{testAudience}, Logger: quiet}
		edit(&cfg)
		v, err := bearer.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatalf("with the issuer gone: %v", err)
		}
		wantRefusal(t, verifyErr(v, wrongAud), bearer.ErrAudience, 401)
		if !v.Status().Ready {
			t.Fatal("static keys are not ready")
		}
	}
	for _, cfg := range []bearer.Config{
		{Issuer: url, Audiences: []string{"a"}, JWKS: []byte(`{"keys":[]}`)},
		{Issuer: url, Audiences: []string{"a"}, JWKS: jwks, JWKSFile: file},
		{Issuer: url, Audiences: []string{"a"}, JWKSFile: file + ".missing"},
	} {
		if _, err := bearer.New(cfg); err == nil {
			t.Errorf("accepted %+v", cfg)
		}
	}
}

func TestResourceMetadata(t *testing.T) {
	iss := newIssuer(t)
	md, err := bearer.NewResourceMetadata("https://api.example.com/country/", bearer.Config{Issuer: iss.URL(), AllowFormToken: true})
	if err != nil {
		t.Fatal(err)
	}
	md.ScopesSupported = bearer.ScopesOf(bearer.RequireScope("country.read"), bearer.Any(bearer.RequireAnyScope("country.write", "country.admin"), bearer.RequireRole("x")))
	md.ResourceName = "Country API"
	if u := md.URL(); u != "https://api.example.com/.well-known/oauth-protected-resource/country" {
		t.Fatalf("URL %s", u)
	}
	var doc map[string]any
	if err := json.Unmarshal(md.Document(), &doc); err != nil {
		t.Fatal(err)
	}
	want := `{"resource":"https://api.example.com/country/","authorization_servers":["` + iss.URL() + `"],"scopes_supported":["country.read","country.write","country.admin"],"bearer_methods_supported":["header","body"],"resource_name":"Country API"}`
	if string(md.Document()) != want {
		t.Fatalf("document\n%s\nwant\n%s", md.Document(), want)
	}
	w := httptest.NewRecorder()
	md.ServeHTTP(w, httptest.NewRequest(http.MethodGet, md.Path(), nil))
	body, _ := io.ReadAll(w.Body)
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/json" || string(body) != want {
		t.Fatalf("served %d %q %s", w.Code, w.Header().Get("Content-Type"), body)
	}
	w = httptest.NewRecorder()
	md.ServeHTTP(w, httptest.NewRequest(http.MethodPost, md.Path(), nil))
	if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" || w.Header().Get("Cache-Control") != "" {
		t.Fatalf("POST served %d, Allow %q, Cache-Control %q", w.Code, w.Header().Get("Allow"), w.Header().Get("Cache-Control"))
	}
	if resp := md.ResponseTo(http.MethodHead); resp.Status != 200 || string(resp.Body) != want {
		t.Fatalf("HEAD answer %d %s", resp.Status, resp.Body)
	}
	for _, bad := range []string{"http://api.example.com", "https://api.example.com/?x=1", "/country", ""} {
		if _, err := bearer.NewResourceMetadata(bad); err == nil {
			t.Errorf("resource %q was accepted", bad)
		}
		if u := (&bearer.ResourceMetadata{Resource: bad}).URL(); u != "" {
			t.Errorf("resource %q has the URL %q", bad, u)
		}
	}
	for name, cfg := range map[string]bearer.Config{
		"no issuer":                  {},
		"tenants without a template": {Issuer: iss.URL(), Tenants: []string{"contoso"}},
		"a template twice":           {Issuer: "https://login.microsoftonline.com/{tenantid}/{tenantid}"},
		"a tenant that is no id":     {Issuer: "https://login.microsoftonline.com/{tenantid}/v2.0", Tenants: []string{"a/b"}},
	} {
		if _, err := bearer.NewResourceMetadata("https://api.example.com", cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}

	// The issuers of a MultiVerifier, each once; bearer methods as the
	// first reads requests.
	several, err := bearer.NewResourceMetadata("https://api.example.com",
		bearer.Config{Issuer: iss.URL(), AllowQueryToken: true},
		bearer.Config{Issuer: "https://login.microsoftonline.com/{tenantid}/v2.0", Tenants: []string{"contoso", "fabrikam"}},
		bearer.Config{Issuer: iss.URL(), AllowFormToken: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{iss.URL(), "https://login.microsoftonline.com/contoso/v2.0", "https://login.microsoftonline.com/fabrikam/v2.0"}; !slices.Equal(several.AuthorizationServers, want) ||
		!slices.Equal(several.BearerMethodsSupported, []string{"header", "query"}) {
		t.Fatalf("authorization servers %v, bearer methods %v", several.AuthorizationServers, several.BearerMethodsSupported)
	}

	// Built before the verifier, the metadata is named in its challenges.
	u := md.URL()
	withMD := newVerifier(t, iss, func(c *bearer.Config) { c.ResourceMetadata = u })
	for _, tc := range []struct {
		token string
		want  string
	}{
		{"", `Bearer realm="country-api", resource_metadata="` + u + `"`},
		{iss.MustMint(t, map[string]any{"aud": "x"}), `Bearer realm="country-api", error="invalid_token", error_description="the token is not meant for this API", resource_metadata="` + u + `"`},
	} {
		r := withAuth()
		if tc.token != "" {
			r = withAuth("Bearer " + tc.token)
		}
		_, err := withMD.Check(bg, r)
		if got := withMD.Response(err).Header.Get("WWW-Authenticate"); got != tc.want {
			t.Errorf("challenge %s\nwant %s", got, tc.want)
		}
	}
	_, err = withMD.Check(bg, withAuth("Bearer "+iss.MustMint(t, nil)), bearer.RequireScope("country.read"))
	if got := withMD.Response(err).Header.Get("WWW-Authenticate"); !strings.HasSuffix(got, `scope="country.read", resource_metadata="`+u+`"`) {
		t.Errorf("403 challenge %s", got)
	}
}

// An issuer that introspects all its tokens is asked about its own JWTs
// only: another issuer's JWT is verified by that issuer's keys, and never
// shown to the introspecting one.
func TestMultiVerifierIntrospectsOnlyItsOwnJWTs(t *testing.T) {
	keycloak, in := introspecting(t)
	in.AllTokens = true
	entra := newIssuer(t)
	m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{
		{Issuer: keycloak.URL(), Audiences: []string{testAudience}, Logger: quiet, Introspection: in},
		{Issuer: entra.URL(), Audiences: []string{testAudience}, Logger: quiet},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.Verify(bg, entra.MustMint(t, nil))
	if err != nil || c.Issuer != entra.URL() {
		t.Fatalf("the other issuer's JWT: %v", err)
	}
	if n := keycloak.Introspections(); n != 0 {
		t.Fatalf("the other issuer's JWT was introspected %d times", n)
	}
	// The introspecting issuer's own JWT is asked about (and, unknown to
	// its introspection endpoint, refused); its opaque tokens are accepted.
	wantRefusal(t, verifyErr(m, keycloak.MustMint(t, nil)), bearer.ErrInactive, 401)
	if _, err := m.Verify(bg, keycloak.MintOpaque(nil)); err != nil {
		t.Fatal(err)
	}
	if n := keycloak.Introspections(); n != 2 {
		t.Fatalf("%d introspections; want 2", n)
	}
	// Three segments that do not read as a JWT name no issuer: they are
	// the introspecting issuer's to judge, as an opaque token.
	wantRefusal(t, verifyErr(m, "not.a.jwt"), bearer.ErrInactive, 401)
	if n := keycloak.Introspections(); n != 3 {
		t.Fatalf("%d introspections; want 3", n)
	}
}

// Without a tenant list, a template's authorization server is where its
// tenant-independent metadata is: the discovery tenant's, and for Entra's
// v1 issuer on login.microsoftonline.com, not sts.windows.net.
func TestTemplateAuthorizationServer(t *testing.T) {
	for _, tc := range []struct {
		issuer, tenant, want string
	}{
		{"https://login.microsoftonline.com/{tenantid}/v2.0", "", "https://login.microsoftonline.com/common/v2.0"},
		{"https://login.microsoftonline.com/{tenantid}/v2.0", "organizations", "https://login.microsoftonline.com/organizations/v2.0"},
		{"https://sts.windows.net/{tenantid}/", "", "https://login.microsoftonline.com/common"},
	} {
		md, err := bearer.NewResourceMetadata("https://api.example.com", bearer.Config{Issuer: tc.issuer, DiscoveryTenant: tc.tenant})
		if err != nil {
			t.Fatal(err)
		}
		if got := md.AuthorizationServers; len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s (%q): %v; want %s", tc.issuer, tc.tenant, got, tc.want)
		}
	}
}

// A JWS is never taken for an opaque token: one the verifier cannot read,
// or whose iss names no trusted issuer, is refused without any call to the
// issuer that introspects all its tokens, however early it fails.
func TestUnreadableJWTsAreNotIntrospected(t *testing.T) {
	keycloak, in := introspecting(t)
	in.AllTokens = true
	entra, stranger := newIssuer(t), newIssuer(t)
	m, err := bearer.NewMulti(bearer.MultiConfig{Issuers: []bearer.Config{
		{Issuer: keycloak.URL(), Audiences: []string{testAudience}, Logger: quiet, Introspection: in},
		{Issuer: entra.URL(), Audiences: []string{testAudience}, Logger: quiet},
	}})
	if err != nil {
		t.Fatal(err)
	}
	single := newVerifier(t, keycloak, func(c *bearer.Config) { c.Introspection = in })
	tokens := map[string]string{
		"crit header":               entra.MustMint(t, nil, bearertest.WithHeader("crit", []string{"exp"})),
		"JWE header":                entra.MustMint(t, nil, bearertest.WithHeader("enc", "A256GCM")),
		"header not valid JSON":     base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256",}`)) + ".e30.sig",
		"claim refused before iss":  mustMintPayload(t, entra, []byte(`{"aud":1,"iss":"`+entra.URL()+`"}`)),
		"payload not JSON":          mustMintPayload(t, entra, []byte(`iss=`+entra.URL())),
		"payload not base64url":     strings.Join([]string{strings.Split(entra.MustMint(t, nil), ".")[0], "!!", "sig"}, "."),
		"ID token":                  entra.MustMint(t, map[string]any{"nonce": "n"}),
		"no iss":                    stranger.MustMint(t, map[string]any{"iss": nil}),
		"untrusted iss":             stranger.MustMint(t, nil),
		"untrusted iss, claim last": mustMintPayload(t, stranger, []byte(`{"iss":"`+stranger.URL()+`","aud":1}`)),
	}
	for name, tok := range tokens {
		for _, v := range []interface {
			Verify(context.Context, string) (*bearer.Claims, error)
		}{m, single} {
			if _, err := v.Verify(bg, tok); err == nil {
				t.Errorf("%s: accepted", name)
			}
			if n := keycloak.Introspections(); n != 0 {
				t.Fatalf("%s: introspected (%d calls)", name, n)
			}
		}
	}
	if n := stranger.DiscoveryFetches() + stranger.JWKSFetches(); n != 0 {
		t.Fatalf("an untrusted issuer was contacted %d times", n)
	}
	// Opaque tokens, however many dots they hold, are still introspected.
	for _, tok := range []string{keycloak.MintOpaque(nil), "ory_at_abc.def", "not.a.jwt"} {
		_, _ = m.Verify(bg, tok)
	}
	if n := keycloak.Introspections(); n != 3 {
		t.Fatalf("%d introspections of 3 opaque tokens", n)
	}
}
