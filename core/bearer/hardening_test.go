package bearer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// Claims in a context are reused only by the Verifier that produced them:
// an outer middleware trusting issuer A must not vouch for a route guarded
// by issuer B, and claims made or copied outside bouncer vouch for nothing.
func TestClaimsAreBoundToTheirVerifier(t *testing.T) {
	issA, issB := newIssuer(t, bearertest.WithAudience("public-api")), newIssuer(t, bearertest.WithAudience("admin-api"))
	vA := newVerifier(t, issA, func(c *bearer.Config) { c.Audiences = []string{"public-api"} })
	vB := newVerifier(t, issB, func(c *bearer.Config) { c.Audiences = []string{"admin-api"} })
	tokA := issA.MustMint(t, map[string]any{"scope": "admin"})
	claimsA, err := vA.Check(bg, withAuth("Bearer "+tokA)) // as a middleware stores them
	if err != nil {
		t.Fatal(err)
	}
	ctx := bearer.NewContext(bg, claimsA)

	if _, err := vA.Check(ctx, withAuth(), bearer.RequireScope("admin")); err != nil {
		t.Fatalf("the producing verifier must reuse its claims: %v", err)
	}
	_, err = vB.Check(ctx, withAuth(), bearer.RequireScope("admin"))
	wantRefusal(t, err, bearer.ErrMissingToken, 401)
	_, err = vB.Check(ctx, withAuth("Bearer "+tokA), bearer.RequireScope("admin"))
	wantRefusal(t, err, bearer.ErrIssuer, 401)

	forged := &bearer.Claims{Issuer: issA.URL(), Audience: []string{"public-api"}, Scopes: []string{"admin"}}
	_, err = vA.Check(bearer.NewContext(bg, forged), withAuth(), bearer.RequireScope("admin"))
	wantRefusal(t, err, bearer.ErrMissingToken, 401)

	copied := *claimsA
	copied.Scopes = []string{"admin", "root"}
	_, err = vA.Check(bearer.NewContext(bg, &copied), withAuth(), bearer.RequireScope("root"))
	wantRefusal(t, err, bearer.ErrMissingToken, 401)

	// The copies handed to the application vouch for nothing either, even
	// unchanged: only what Check returned stands for the token.
	verified, _ := vA.Verify(bg, tokA)
	fromCtx, _ := bearer.FromContext(ctx)
	for name, c := range map[string]*bearer.Claims{"Verify's": verified, "FromContext's": fromCtx, "a clone": claimsA.Clone()} {
		_, err = vA.Check(bearer.NewContext(bg, c), withAuth(), bearer.RequireScope("admin"))
		if !errors.Is(err, bearer.ErrMissingToken) {
			t.Errorf("%s copy in a context: %v; want the request's own token verified", name, err)
		}
	}
}

// A member name repeated in the claims or the header would be read as its
// first value by one reader and its last by another: refused.
func TestRepeatedMembersAreRefused(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	exp := time.Now().Add(time.Hour).Unix()
	claims := func(extra string) []byte {
		return fmt.Appendf(nil, `{"iss":%q,"sub":"s","exp":%d,%s}`, iss.URL(), exp, extra)
	}
	rs, _ := iss.CurrentKey("RS256")
	cases := map[string]string{
		"aud then null":              mustMintPayload(t, iss, claims(`"aud":"country-api","aud":null`)),
		"scope then null":            mustMintPayload(t, iss, claims(`"aud":"country-api","scope":"admin","scope":null`)),
		"realm_access twice":         mustMintPayload(t, iss, claims(`"aud":"country-api","realm_access":{"roles":["admin"]},"realm_access":{}`)),
		"roles twice inside":         mustMintPayload(t, iss, claims(`"aud":"country-api","realm_access":{"roles":["admin"],"roles":[]}`)),
		"escaped repeat of aud":      mustMintPayload(t, iss, claims(`"aud":"country-api","\u0061ud":"other"`)),
		"repeat deep in a claim":     mustMintPayload(t, iss, claims(`"aud":"country-api","x":[{"a":1,"a":2}]`)),
		"iss twice":                  mustMintPayload(t, iss, claims(`"aud":"country-api","iss":"https://evil.example"`)),
		"header alg twice":           iss.MustMint(t, nil, bearertest.WithRawHeader(fmt.Appendf(nil, `{"alg":"RS256","kid":%q,"alg":"RS256"}`, rs.ID()))),
		"header kid twice":           iss.MustMint(t, nil, bearertest.WithRawHeader(fmt.Appendf(nil, `{"alg":"RS256","kid":%q,"kid":"other"}`, rs.ID()))),
		"header typ twice":           iss.MustMint(t, nil, bearertest.WithRawHeader(fmt.Appendf(nil, `{"alg":"RS256","kid":%q,"typ":"dpop+jwt","typ":"at+jwt"}`, rs.ID()))),
		"claims not UTF-8":           mustMintPayload(t, iss, claims("\"aud\":\"country-api\",\"x\":\"\xff\"")),
		"claims with lone surrogate": mustMintPayload(t, iss, claims(`"aud":"country-api","sub":"\ud800"`)),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := v.Verify(bg, tok)
			wantRefusal(t, err, bearer.ErrMalformed, 401)
		})
	}
}

// Header and claim names are case-sensitive (RFC 7515 §4, RFC 8259 §8.3):
// "ALG" is not "alg", and Typed reads the members that were checked.
func TestMemberNamesAreCaseSensitive(t *testing.T) {
	iss := newIssuer(t, bearertest.WithKeysFor("EdDSA"))
	v := newVerifier(t, iss)
	ed, _ := iss.CurrentKey("EdDSA")
	rs, _ := iss.CurrentKey("RS256")

	noneUpperEdDSA := iss.MustMint(t, nil, bearertest.WithAlg("EdDSA"),
		bearertest.WithRawHeader(fmt.Appendf(nil, `{"alg":"none","ALG":"EdDSA","kid":%q}`, ed.ID())))
	_, err := v.Verify(bg, noneUpperEdDSA)
	wantRefusal(t, err, bearer.ErrAlgorithm, 401)

	dpopUpperAt := iss.MustMint(t, nil, bearertest.WithRawHeader(fmt.Appendf(nil, `{"alg":"RS256","kid":%q,"typ":"dpop+jwt","TYP":"at+jwt"}`, rs.ID())))
	_, err = v.Verify(bg, dpopUpperAt)
	wantRefusal(t, err, bearer.ErrType, 401)

	evil := iss.MustMint(t, map[string]any{"Iss": "https://evil.example", "Scope": "admin"})
	c, err := v.Verify(bg, evil)
	if err != nil {
		t.Fatal(err)
	}
	type app struct {
		Iss   string `json:"iss"`
		Scope string `json:"scope"`
	}
	decoded, err := bearer.Typed[app](c)
	if err != nil {
		t.Fatal(err)
	}
	if decoded.Iss != iss.URL() || decoded.Scope != "" || c.HasScope("admin") {
		t.Fatalf("decoded %+v, scopes %v: Typed must read the exact members that were checked", decoded, c.Scopes)
	}
}

// Scope tokens are separated by one SP and are printable ASCII (RFC 6749
// §3.3): other white space must not split one scope into two.
func TestScopeSyntax(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	for name, scope := range map[string]any{
		"no-break space":      "orders:read\u00a0admin",
		"tab":                 "orders:read\tadmin",
		"line feed":           "orders:read\nadmin",
		"ideographic space":   "orders:read\u3000admin",
		"two spaces":          "orders:read  admin",
		"leading space":       " admin",
		"trailing space":      "admin ",
		"space inside array":  []string{"orders:read admin"},
		"empty in array":      []string{""},
		"non-ASCII in array":  []string{"ädmin"},
		"double quote inside": `a"b`,
	} {
		t.Run(name, func(t *testing.T) {
			for _, claim := range []string{"scope", "scp"} {
				_, err := v.Verify(bg, iss.MustMint(t, map[string]any{claim: scope}))
				wantRefusal(t, err, bearer.ErrMalformed, 401)
			}
		})
	}
	c, err := v.Verify(bg, iss.MustMint(t, map[string]any{"scope": "orders:read admin", "scp": ""}))
	if err != nil || !c.HasScope("admin") || len(c.Scopes) != 2 {
		t.Fatalf("plain scopes: %v, %v", c, err)
	}
}

// ID tokens are signed by the same keys and may name this API as their
// audience; they are refused as what they are.
func TestIDTokensAreRefused(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	for name, claims := range map[string]map[string]any{
		"Keycloak ID token":  {"typ": "ID", "nonce": "n-0S6_WzA2Mj", "azp": "country-api"},
		"Keycloak, no nonce": {"typ": "ID"},
		"Keycloak refresh":   {"typ": "Refresh"},
		"Entra-style":        {"nonce": "n-0S6_WzA2Mj", "at_hash": "77QmUPtjPfzWtF2AnpK9RQ"},
		"at_hash only":       {"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"},
		"c_hash only":        {"c_hash": "LDktKdoQak3Pk0cnXxCltA"},
	} {
		t.Run(name, func(t *testing.T) {
			e := wantRefusal(t, verifyErr(v, iss.MustMint(t, claims)), bearer.ErrType, 401)
			if !strings.Contains(e.Description, "not an access token") {
				t.Fatalf("description %q does not say why", e.Description)
			}
		})
	}
	// A Keycloak access token (typ claim Bearer) may carry the nonce of the
	// login that produced it.
	if _, err := v.Verify(bg, iss.MustMint(t, map[string]any{"typ": "Bearer", "nonce": "n"})); err != nil {
		t.Fatalf("Keycloak access token with a nonce: %v", err)
	}
}

// A token bound to a key or certificate (cnf) is only as good as the proof
// that goes with it; presented as a plain bearer token it is refused.
func TestSenderConstrainedTokensAreRefusedAsBearer(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	for name, tc := range map[string]struct {
		cnf  map[string]any
		want string
	}{
		"DPoP":      {map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}, "cnf.jkt"},
		"mTLS":      {map[string]any{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}, "cnf.x5t#S256"},
		"other key": {map[string]any{"jwk": map[string]any{"kty": "EC"}}, "cnf"},
	} {
		t.Run(name, func(t *testing.T) {
			e := wantRefusal(t, verifyErr(v, iss.MustMint(t, map[string]any{"cnf": tc.cnf})), bearer.ErrSenderConstrained, 401)
			if !strings.Contains(e.Description, tc.want) {
				t.Fatalf("description %q does not name %s", e.Description, tc.want)
			}
		})
	}
}

func TestHTTPIssuersAreRefusedOffLoopback(t *testing.T) {
	for _, tc := range []struct {
		issuer, jwks string
		insecure     bool
		ok           bool
	}{
		{issuer: "http://sso.example.com/realms/api"},
		{issuer: "http://sso.example.com/realms/api", insecure: true, ok: true},
		{issuer: "https://sso.example.com/realms/api", ok: true},
		{issuer: "https://sso.example.com/realms/api", jwks: "http://sso.example.com/keys"},
		{issuer: "http://127.0.0.1:8080", ok: true},
		{issuer: "http://127.8.9.10", ok: true},
		{issuer: "http://[::1]:8080", ok: true},
		{issuer: "http://localhost:8080/realms/dev", ok: true},
		{issuer: "http://localhost.example.com"},
		{issuer: "ftp://sso.example.com"},
	} {
		_, err := bearer.New(bearer.Config{Issuer: tc.issuer, JWKSURL: tc.jwks, Audiences: []string{"api"}, InsecureAllowHTTP: tc.insecure, Logger: quiet})
		if (err == nil) != tc.ok {
			t.Errorf("New(%s, jwks %q, insecure %v) = %v; want ok %v", tc.issuer, tc.jwks, tc.insecure, err, tc.ok)
		}
	}
}

// Discovery on an https issuer that names a plain-http jwks_uri is not
// followed: the keys would be open to tampering.
func TestDiscoveredHTTPKeysAreRefused(t *testing.T) {
	var jwksFetched atomic.Bool
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/keys" {
			jwksFetched.Store(true)
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": srv.URL, "jwks_uri": "http://keys.example.com/keys"})
	}))
	t.Cleanup(srv.Close)
	v, err := bearer.New(bearer.Config{Issuer: srv.URL, Audiences: []string{"api"}, HTTPClient: srv.Client(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	err = v.Ready(bg)
	wantRefusal(t, err, bearer.ErrIssuerUnavailable, 503)
	if st := v.Status(); st.LastError == nil || !strings.Contains(st.LastError.Error(), "plain http") || jwksFetched.Load() {
		t.Fatalf("last error %v, fetched %v", st.LastError, jwksFetched.Load())
	}
}

// Redirects never go from https to http, nor to another origin unless
// configured.
func TestRedirectsStayOnOriginAndScheme(t *testing.T) {
	iss := newIssuer(t)
	plain := iss.DiscoveryURL()
	other := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not here", http.StatusNotFound)
	}))
	t.Cleanup(other.Close)
	var target string
	var front *httptest.Server
	front = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			http.Redirect(w, r, target, http.StatusFound)
		case "/moved":
			_ = json.NewEncoder(w).Encode(map[string]string{"issuer": front.URL, "jwks_uri": front.URL + "/keys"})
		case "/keys":
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(iss.JWKS())
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(front.Close)
	client := front.Client()
	client.Transport.(*http.Transport).TLSClientConfig.RootCAs.AddCert(other.Certificate())

	for _, tc := range []struct {
		name, target string
		cross        bool
		ok           bool
	}{
		{"same origin", "/moved", false, true},
		{"https to http", plain, false, false},
		{"https to http, cross-origin allowed", plain, true, false},
		{"another origin", other.URL + "/moved", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target = tc.target
			v, err := bearer.New(bearer.Config{Issuer: front.URL, Audiences: []string{"api"}, HTTPClient: client, AllowRedirectsAcrossOrigins: tc.cross, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			err = v.Ready(bg)
			if (err == nil) != tc.ok {
				t.Fatalf("Ready = %v; want ok %v", err, tc.ok)
			}
			if !tc.ok && !strings.Contains(v.Status().LastError.Error(), "redirect refused") {
				t.Fatalf("last error %v", v.Status().LastError)
			}
		})
	}
}

// Every Config value gives a working verifier: "forever" saturates instead
// of overflowing into a fetch and a 503 on every request.
func TestHugeDurationsSaturate(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.MaxStale = math.MaxInt64
		c.KeyMaxAge = math.MaxInt64
		c.RefetchCooldown = math.MaxInt64
		c.FetchTimeout = math.MaxInt64
		c.Leeway = math.MaxInt64
		c.MaxTokenBytes = math.MaxInt
		c.MaxKeys = math.MaxInt
	})
	tok := iss.MustMint(t, nil)
	for range 5 {
		if _, err := v.Verify(bg, tok); err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.JWKSFetches(); n != 1 {
		t.Fatalf("%d JWKS fetches; want 1", n)
	}
	// A leeway clamped to 10 minutes: a token expired an hour ago is refused.
	_, err := v.Verify(bg, iss.MustMint(t, map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}))
	wantRefusal(t, err, bearer.ErrExpired, 401)

	for _, edit := range []func(*bearer.Config){
		func(c *bearer.Config) { c.MaxStale = -time.Second },
		func(c *bearer.Config) { c.FetchTimeout = -1 },
		func(c *bearer.Config) { c.MaxKeys = -1 },
		func(c *bearer.Config) { c.MaxTokenLifetime = -time.Hour },
	} {
		cfg := bearer.Config{Issuer: iss.URL(), Audiences: []string{"api"}}
		edit(&cfg)
		if _, err := bearer.New(cfg); err == nil {
			t.Errorf("New accepted a negative setting: %+v", cfg)
		}
	}
}

// An Error built by hand, as a Policy of one's own may, is safe to print
// and answers with its code's status.
func TestHandBuiltErrors(t *testing.T) {
	e := &bearer.Error{Code: bearer.CodeInsufficientScope, Description: "needs the admin role"}
	if got := e.Error(); !strings.Contains(got, "needs the admin role") {
		t.Fatalf("Error() = %q", got)
	}
	if !errors.Is(e, bearer.ErrInsufficientScope) || e.StatusCode() != 403 {
		t.Fatalf("hand-built 403: Is %v, status %d", errors.Is(e, bearer.ErrInsufficientScope), e.StatusCode())
	}
	_ = (&bearer.Error{}).Error()
	_ = (&bearer.Error{}).Challenge("r")

	iss := newIssuer(t)
	v := newVerifier(t, iss)
	admin := bearer.PolicyFunc(func(c *bearer.Claims) error {
		return bearer.NewInsufficientScope("needs the admin role", "admin")
	})
	_, err := v.Check(bg, withAuth("Bearer "+iss.MustMint(t, nil)), admin)
	e = wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
	if resp := v.Response(err); !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="admin"`) {
		t.Fatalf("challenge %q", resp.Header.Get("WWW-Authenticate"))
	}
}

// A request that ends while the keys are fetched reports its own end.
func TestCancelledRequestIsNotAnOutage(t *testing.T) {
	iss := newIssuer(t)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	iss.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	v := newVerifier(t, iss)
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	_, err := v.Verify(ctx, iss.MustMint(t, nil))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want context.DeadlineExceeded", err)
	}
}

func TestTwoSegmentTokenIsDescribedAsSuch(t *testing.T) {
	v := newVerifier(t, newIssuer(t))
	e := wantRefusal(t, verifyErr(v, "ory_at_X.Y"), bearer.ErrMalformed, 401)
	if strings.Contains(e.Description, "encrypted") || !strings.Contains(e.Description, "2") {
		t.Fatalf("description %q", e.Description)
	}
}

func TestTypApplicationJWT(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	for _, typ := range []string{"JWT", "application/jwt", "APPLICATION/JWT", "at+jwt", "application/at+JWT"} {
		if _, err := v.Verify(bg, iss.MustMint(t, nil, bearertest.WithHeader("typ", typ))); err != nil {
			t.Errorf("typ %s: %v", typ, err)
		}
	}
	strict := newVerifier(t, iss, func(c *bearer.Config) { c.RequireAccessTokenType = true })
	_, err := strict.Verify(bg, iss.MustMint(t, nil, bearertest.WithHeader("typ", "application/jwt")))
	wantRefusal(t, err, bearer.ErrType, 401)
}

// An issuer that answers 429 with Retry-After is not asked again before
// then: requests get 503 meanwhile, with that wait.
func TestRetryAfterIsHonoured(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t)
	var limited atomic.Bool
	limited.Store(true)
	iss.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if limited.Load() {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		iss.DefaultJWKSHandler().ServeHTTP(w, r)
	}))
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Now = clk.Now })
	tok := iss.MustMint(t, nil)
	e := wantRefusal(t, verifyErr(v, tok), bearer.ErrIssuerUnavailable, 503)
	if e.RetryAfter < 4*time.Second {
		t.Fatalf("RetryAfter = %v; want the issuer's 5s", e.RetryAfter)
	}
	limited.Store(false)
	for range 4 {
		clk.Advance(time.Second)
		wantRefusal(t, verifyErr(v, tok), bearer.ErrIssuerUnavailable, 503)
	}
	if n := iss.JWKSFetches(); n != 1 {
		t.Fatalf("%d fetches within Retry-After; want 1", n)
	}
	clk.Advance(1100 * time.Millisecond)
	if _, err := v.Verify(bg, tok); err != nil {
		t.Fatalf("after Retry-After: %v", err)
	}
}

func TestMaxTokenLifetime(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.MaxTokenLifetime = time.Hour })
	now := time.Now()
	if _, err := v.Verify(bg, iss.MustMint(t, map[string]any{"exp": now.Add(time.Hour).Unix(), "iat": now.Unix()})); err != nil {
		t.Fatal(err)
	}
	_, err := v.Verify(bg, iss.MustMint(t, map[string]any{"exp": now.Add(24 * time.Hour).Unix(), "iat": now.Unix()}))
	wantRefusal(t, err, bearer.ErrLifetime, 401)
	_, err = v.Verify(bg, iss.MustMint(t, map[string]any{"iat": nil}))
	wantRefusal(t, err, bearer.ErrLifetime, 401)
}

func TestStrictRFC9068(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.StrictRFC9068 = true })
	if _, err := v.Verify(bg, iss.MustMint(t, nil)); err != nil {
		t.Fatalf("a full RFC 9068 token: %v", err)
	}
	for _, missing := range []string{"sub", "client_id", "iat", "jti"} {
		_, err := v.Verify(bg, iss.MustMint(t, map[string]any{missing: nil}))
		e := wantRefusal(t, err, bearer.ErrMalformed, 401)
		if !strings.Contains(e.Description, missing) {
			t.Errorf("without %s: %q", missing, e.Description)
		}
	}
	_, err := v.Verify(bg, iss.MustMint(t, nil, bearertest.WithHeader("typ", "JWT")))
	wantRefusal(t, err, bearer.ErrType, 401)
}

// Discovery member names are exact too: "JWKS_URI" is not "jwks_uri", and a
// document that names its issuer twice is not used.
func TestDiscoveryMemberNamesAreExact(t *testing.T) {
	iss := newIssuer(t)
	var doc string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/keys" {
			iss.DefaultJWKSHandler().ServeHTTP(w, r)
			return
		}
		_, _ = io.WriteString(w, doc)
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		doc string
		ok  bool
	}{
		{`{"issuer":%q,"jwks_uri":%q}`, true},
		{`{"issuer":%q,"JWKS_URI":%q}`, false},
		{`{"ISSUER":%q,"jwks_uri":%q}`, false},
		{`{"issuer":%q,"jwks_uri":%q,"issuer":"https://evil.example"}`, false},
	} {
		doc = fmt.Sprintf(tc.doc, srv.URL, srv.URL+"/keys")
		v, err := bearer.New(bearer.Config{Issuer: srv.URL, Audiences: []string{"api"}, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Ready(bg); (err == nil) != tc.ok {
			t.Errorf("%s: Ready = %v", doc, err)
		}
	}
}
