package bearer_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

func TestVerifyAcceptsEveryDefaultAlgorithm(t *testing.T) {
	iss := newIssuer(t)
	toks := map[string]string{}
	for _, alg := range bearer.DefaultAlgorithms {
		toks[alg] = iss.MustMint(t, map[string]any{"scope": "country.read"}, bearertest.WithAlg(alg))
	}
	v := newVerifier(t, iss)
	for _, alg := range bearer.DefaultAlgorithms {
		t.Run(alg, func(t *testing.T) {
			c, err := v.Verify(bg, toks[alg])
			if err != nil {
				t.Fatal(err)
			}
			if c.Issuer != iss.URL() || !c.HasScope("country.read") || !slices.Equal(c.Audience, []string{testAudience}) {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
}

func TestVerifyRefusals(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t, bearertest.WithClock(clk.Now))
	rsKey, _ := iss.CurrentKey("RS256")
	stranger, err := bearertest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	good := iss.MustMint(t, nil)
	parts := strings.Split(good, ".")
	now := clk.Now()
	pubDER, _ := x509.MarshalPKIXPublicKey(rsKey.Public().(*rsa.PublicKey))

	cases := []struct {
		name     string
		token    string
		sentinel error
	}{
		{"empty", "", bearer.ErrMalformed},
		{"one segment", "abc", bearer.ErrMalformed},
		{"four segments", good + ".x", bearer.ErrMalformed},
		{"JWE five segments", "a.b.c.d.e", bearer.ErrMalformed},
		{"JSON serialisation", `{"payload":"` + parts[1] + `","signatures":[]}`, bearer.ErrMalformed},
		{"padded segment", parts[0] + "=." + parts[1] + "." + parts[2], bearer.ErrMalformed},
		{"standard alphabet", parts[0] + "." + parts[1] + "." + strings.NewReplacer("-", "+", "_", "/").Replace(parts[2]) + "+", bearer.ErrMalformed},
		{"header not JSON", b64("not json") + "." + parts[1] + "." + parts[2], bearer.ErrMalformed},
		{"payload not an object", mustMintPayload(t, iss, []byte(`[1,2]`)), bearer.ErrMalformed},
		{"payload not JSON", mustMintPayload(t, iss, []byte(`exp`)), bearer.ErrMalformed},
		{"too large", iss.MustMint(t, map[string]any{"pad": strings.Repeat("x", 17<<10)}), bearer.ErrMalformed},
		{"alg none", iss.MustMint(t, nil, bearertest.WithAlg("none")), bearer.ErrAlgorithm},
		{"alg none spelled None", iss.MustMint(t, nil, bearertest.WithAlg("none"), bearertest.WithHeader("alg", "None")), bearer.ErrAlgorithm},
		{"HS256 keyed with the issuer's public key", hmacToken(t, pubDER, rsKey.ID(), parts[1]), bearer.ErrAlgorithm},
		{"unknown alg", iss.MustMint(t, nil, bearertest.WithHeader("alg", "RS1")), bearer.ErrAlgorithm},
		{"alg differs from the key's alg", iss.MustMint(t, nil, bearertest.WithAlg("PS256"), bearertest.WithKey(rsKey)), bearer.ErrAlgorithm},
		{"alg does not fit the key type", iss.MustMint(t, nil, bearertest.WithAlg("ES256"), bearertest.WithHeader("kid", rsKey.ID())), bearer.ErrAlgorithm},
		{"typ dpop+jwt", iss.MustMint(t, nil, bearertest.WithHeader("typ", "dpop+jwt")), bearer.ErrType},
		{"typ of an ID token", iss.MustMint(t, nil, bearertest.WithHeader("typ", "id_token+jwt")), bearer.ErrType},
		{"crit header", iss.MustMint(t, nil, bearertest.WithHeader("crit", []string{"exp"}), bearertest.WithHeader("exp", 1)), bearer.ErrMalformed},
		{"enc header", iss.MustMint(t, nil, bearertest.WithHeader("enc", "A256GCM")), bearer.ErrMalformed},
		{"unknown kid", iss.MustMint(t, nil, bearertest.WithKey(stranger)), bearer.ErrUnknownKey},
		{"embedded jwk of the signer is not trusted", iss.MustMint(t, nil, bearertest.WithKey(stranger), bearertest.WithHeader("jwk", stranger.PublicJWK())), bearer.ErrUnknownKey},
		{"jku pointing elsewhere is not followed", iss.MustMint(t, nil, bearertest.WithKey(stranger), bearertest.WithHeader("jku", "http://127.0.0.1:1/jwks")), bearer.ErrUnknownKey},
		{"known kid, other key", iss.MustMint(t, nil, bearertest.WithKey(stranger.WithID(rsKey.ID()))), bearer.ErrSignature},
		{"tampered payload", parts[0] + "." + b64(`{"iss":"`+iss.URL()+`","aud":"`+testAudience+`","exp":9999999999,"scope":"admin"}`) + "." + parts[2], bearer.ErrSignature},
		{"empty signature", parts[0] + "." + parts[1] + ".", bearer.ErrSignature},
		{"expired beyond leeway", iss.MustMint(t, map[string]any{"exp": now.Add(-61 * time.Second).Unix()}), bearer.ErrExpired},
		{"no exp", iss.MustMint(t, map[string]any{"exp": nil}), bearer.ErrMalformed},
		{"exp as a string", iss.MustMint(t, map[string]any{"exp": "9999999999"}), bearer.ErrMalformed},
		{"nbf in the future", iss.MustMint(t, map[string]any{"nbf": now.Add(2 * time.Minute).Unix()}), bearer.ErrNotYetValid},
		{"iat in the future", iss.MustMint(t, map[string]any{"iat": now.Add(2 * time.Minute).Unix()}), bearer.ErrNotYetValid},
		{"nbf as a string", iss.MustMint(t, map[string]any{"nbf": "0"}), bearer.ErrMalformed},
		{"wrong issuer", iss.MustMint(t, map[string]any{"iss": iss.URL() + "/other"}), bearer.ErrIssuer},
		{"issuer with trailing slash", iss.MustMint(t, map[string]any{"iss": iss.URL() + "/"}), bearer.ErrIssuer},
		{"no issuer", iss.MustMint(t, map[string]any{"iss": nil}), bearer.ErrIssuer},
		{"wrong audience", iss.MustMint(t, map[string]any{"aud": "other-api"}), bearer.ErrAudience},
		{"wrong audiences", iss.MustMint(t, map[string]any{"aud": []string{"a", "b"}}), bearer.ErrAudience},
		{"no audience", iss.MustMint(t, map[string]any{"aud": nil}), bearer.ErrAudience},
		{"audience of another type", iss.MustMint(t, map[string]any{"aud": 42}), bearer.ErrMalformed},
		{"scope of another type", iss.MustMint(t, map[string]any{"scope": 42}), bearer.ErrMalformed},
	}
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Now = clk.Now })
	if _, err := v.Verify(bg, good); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(bg, tc.token)
			e := wantRefusal(t, err, tc.sentinel, http.StatusUnauthorized)
			if e.Code != bearer.CodeInvalidToken {
				t.Fatalf("code = %q", e.Code)
			}
			if strings.Contains(e.Error(), tc.token) && tc.token != "" {
				t.Fatal("the error repeats the token")
			}
		})
	}
}

func hmacToken(t *testing.T, key []byte, kid, payload string) string {
	t.Helper()
	h := b64(`{"alg":"HS256","kid":"` + kid + `","typ":"at+jwt"}`)
	return h + "." + payload + "." + base64.RawURLEncoding.EncodeToString(hmacSHA256(key, h+"."+payload))
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestVerifyTimeLeeway(t *testing.T) {
	clk := newClock()
	iss := newIssuer(t, bearertest.WithClock(clk.Now))
	now := clk.Now()
	inLeeway := iss.MustMint(t, map[string]any{"exp": now.Add(-30 * time.Second).Unix(), "nbf": now.Add(30 * time.Second).Unix()})
	lenient := newVerifier(t, iss, func(c *bearer.Config) { c.Now = clk.Now })
	if _, err := lenient.Verify(bg, inLeeway); err != nil {
		t.Fatalf("default 60s leeway: %v", err)
	}
	strict := newVerifier(t, iss, func(c *bearer.Config) { c.Now = clk.Now; c.Leeway = -1 })
	wantRefusal(t, verifyErr(strict, inLeeway), bearer.ErrExpired, 401)

	fresh := iss.MustMint(t, nil)
	clk.Advance(5*time.Minute + 59*time.Second) // TTL 5m + 59s of the 60s leeway
	if _, err := lenient.Verify(bg, fresh); err != nil {
		t.Fatalf("within leeway after expiry: %v", err)
	}
	clk.Advance(time.Second)
	wantRefusal(t, verifyErr(lenient, fresh), bearer.ErrExpired, 401)
}

func verifyErr(v interface {
	Verify(context.Context, string) (*bearer.Claims, error)
}, tok string) error {
	_, err := v.Verify(bg, tok)
	return err
}

func TestVerifyTokenType(t *testing.T) {
	iss := newIssuer(t)
	toks := map[string]string{
		"at+jwt":             iss.MustMint(t, nil),
		"application/at+jwt": iss.MustMint(t, nil, bearertest.WithHeader("typ", "application/at+jwt")),
		"AT+JWT":             iss.MustMint(t, nil, bearertest.WithHeader("typ", "AT+JWT")),
		"JWT":                iss.MustMint(t, nil, bearertest.WithHeader("typ", "JWT")),
		"none":               iss.MustMint(t, nil, bearertest.WithHeader("typ", nil)),
	}
	lax := newVerifier(t, iss)
	strict := newVerifier(t, iss, func(c *bearer.Config) { c.RequireAccessTokenType = true })
	for typ, tok := range toks {
		if err := verifyErr(lax, tok); err != nil {
			t.Errorf("default, typ %s: %v", typ, err)
		}
		err := verifyErr(strict, tok)
		if rfc9068 := typ != "JWT" && typ != "none"; rfc9068 != (err == nil) {
			t.Errorf("strict, typ %s: err = %v", typ, err)
		}
	}
}

func TestVerifyAlgorithmAllowList(t *testing.T) {
	iss := newIssuer(t)
	es := iss.MustMint(t, nil, bearertest.WithAlg("ES256"))
	rs := iss.MustMint(t, nil)
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Algorithms = []string{"RS256"} })
	if err := verifyErr(v, rs); err != nil {
		t.Fatal(err)
	}
	wantRefusal(t, verifyErr(v, es), bearer.ErrAlgorithm, 401)
}

func TestNewRefusesUnsafeConfig(t *testing.T) {
	cases := map[string]bearer.Config{
		"no issuer":         {Audiences: []string{"a"}},
		"relative issuer":   {Issuer: "realms/x", Audiences: []string{"a"}},
		"no audience":       {Issuer: "https://issuer.example"},
		"empty audience":    {Issuer: "https://issuer.example", Audiences: []string{""}},
		"HS256":             {Issuer: "https://issuer.example", Audiences: []string{"a"}, Algorithms: []string{"HS256"}},
		"none":              {Issuer: "https://issuer.example", Audiences: []string{"a"}, Algorithms: []string{"none"}},
		"unknown algorithm": {Issuer: "https://issuer.example", Audiences: []string{"a"}, Algorithms: []string{"RS1"}},
		"issuer with query": {Issuer: "https://issuer.example/?x=1", Audiences: []string{"a"}},
	}
	for name, cfg := range cases {
		if _, err := bearer.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
	if _, err := bearer.New(bearer.Config{Issuer: "https://issuer.example", InsecureAcceptAnyAudience: true}); err != nil {
		t.Errorf("explicit opt-out refused: %v", err)
	}
}

func TestInsecureAcceptAnyAudience(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"aud": nil})
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Audiences = nil; c.InsecureAcceptAnyAudience = true })
	if err := verifyErr(v, tok); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyAudienceAnyOf(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"aud": []string{"account", "catalog-api"}})
	v := newVerifier(t, iss, func(c *bearer.Config) { c.Audiences = []string{"country-api", "catalog-api"} })
	c, err := v.Verify(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Audience, []string{"account", "catalog-api"}) {
		t.Fatalf("audience = %v", c.Audience)
	}
}

func TestClaimsTyped(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"preferred_username": "service-account-x", "tenant": map[string]any{"plan": "gold"}})
	c, err := newVerifier(t, iss).Verify(bg, tok)
	if err != nil {
		t.Fatal(err)
	}
	type app struct {
		Username string `json:"preferred_username"`
		Tenant   struct {
			Plan string `json:"plan"`
		} `json:"tenant"`
	}
	own, err := bearer.Typed[app](c)
	if err != nil {
		t.Fatal(err)
	}
	if own.Username != "service-account-x" || own.Tenant.Plan != "gold" {
		t.Fatalf("decoded %+v", own)
	}
	var m map[string]any
	if err := json.Unmarshal(c.Raw(), &m); err != nil || m["iss"] != iss.URL() {
		t.Fatalf("raw = %s (%v)", c.Raw(), err)
	}
}
