package bearertest_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

func TestMintVerifiesForEveryAlgorithm(t *testing.T) {
	iss := newIssuer(t)
	for _, alg := range bearertest.Algorithms() {
		t.Run(alg, func(t *testing.T) {
			tok := iss.MustMint(t, map[string]any{"scope": "read"}, bearertest.WithAlg(alg))
			header, _ := parts(t, tok)
			key, err := iss.CurrentKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			if header["alg"] != alg || header["typ"] != "at+jwt" || header["kid"] != key.ID() {
				t.Errorf("header = %v, want alg %s, typ at+jwt, kid %s", header, alg, key.ID())
			}
			claims := verify(t, iss, tok, alg)
			if claims["scope"] != "read" {
				t.Errorf("scope = %v", claims["scope"])
			}
		})
	}
}

func TestMintDefaults(t *testing.T) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	iss := newIssuer(t,
		bearertest.WithClock(func() time.Time { return now }),
		bearertest.WithTokenTTL(time.Hour),
		bearertest.WithAudience("https://api.example"),
	)
	tok := iss.MustMint(t, nil)
	claims := verify(t, iss, tok, "RS256")
	want := map[string]any{
		"iss":       iss.URL(),
		"sub":       bearertest.DefaultSubject,
		"client_id": bearertest.DefaultSubject,
		"aud":       "https://api.example",
		"iat":       float64(now.Unix()),
		"exp":       float64(now.Add(time.Hour).Unix()),
	}
	for name, v := range want {
		if claims[name] != v {
			t.Errorf("%s = %v, want %v", name, claims[name], v)
		}
	}
	if jti, _ := claims["jti"].(string); len(jti) < 16 {
		t.Errorf("jti = %v, want a random ID", claims["jti"])
	}
	if len(claims) != len(want)+1 {
		t.Errorf("claims = %v, want only the defaults", claims)
	}
	other := iss.MustMint(t, nil)
	if _, c := parts(t, other); c["jti"] == claims["jti"] {
		t.Error("two tokens share a jti")
	}
}

func TestMintOverridesAndRemovesClaims(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{
		"exp":   nil,
		"aud":   []string{"a", "b"},
		"sub":   "svc-orders",
		"extra": map[string]any{"nested": true},
		"null":  json.RawMessage("null"),
	})
	claims := verify(t, iss, tok, "RS256")
	if _, ok := claims["exp"]; ok {
		t.Error("exp is present, want it removed")
	}
	if aud, _ := claims["aud"].([]any); len(aud) != 2 {
		t.Errorf("aud = %v", claims["aud"])
	}
	if claims["client_id"] != "svc-orders" {
		t.Errorf("client_id = %v, want it to follow sub", claims["client_id"])
	}
	if v, ok := claims["null"]; !ok || v != nil {
		t.Errorf("null = %v, %v; want a JSON null", v, ok)
	}

	tok = iss.MustMint(t, map[string]any{"client_id": nil, "sub": nil, "iss": "https://evil.example"})
	_, claims = parts(t, tok)
	if _, ok := claims["client_id"]; ok {
		t.Error("client_id is present, want it removed")
	}
	if _, ok := claims["sub"]; ok {
		t.Error("sub is present, want it removed")
	}
	if claims["iss"] != "https://evil.example" {
		t.Errorf("iss = %v", claims["iss"])
	}
}

func TestMintHeaders(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, nil,
		bearertest.WithHeader("typ", nil),
		bearertest.WithHeader("kid", "not-a-key"),
		bearertest.WithHeader("crit", []string{"exp"}),
	)
	header, _ := parts(t, tok)
	if _, ok := header["typ"]; ok {
		t.Error("typ is present, want it removed")
	}
	if header["kid"] != "not-a-key" || header["crit"] == nil || header["alg"] != "RS256" {
		t.Errorf("header = %v", header)
	}

	// A forged "alg" changes only the header: the signature is still RS256.
	tok = iss.MustMint(t, nil, bearertest.WithHeader("alg", "HS256"))
	header, _ = parts(t, tok)
	if header["alg"] != "HS256" {
		t.Errorf("alg = %v, want HS256", header["alg"])
	}
	key, _ := iss.CurrentKey("RS256")
	dot := strings.LastIndex(tok, ".")
	sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(tok[:dot]))
	if err := rsa.VerifyPKCS1v15(key.Public().(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
		t.Errorf("signature is not RS256 by the current key: %v", err)
	}
}

func TestMintNone(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, nil, bearertest.WithAlg("none"))
	if !strings.HasSuffix(tok, ".") {
		t.Errorf("token %q has a signature", tok)
	}
	header, _ := parts(t, tok)
	if header["alg"] != "none" || header["kid"] != nil {
		t.Errorf("header = %v", header)
	}
}

func TestMintErrors(t *testing.T) {
	iss := newIssuer(t)
	ec, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]bearertest.MintOption{
		"unknown alg":   {bearertest.WithAlg("HS256")},
		"empty alg key": {bearertest.WithKey(&bearertest.Key{})},
		"key mismatch":  {bearertest.WithKey(ec), bearertest.WithAlg("RS256")},
		"curve":         {bearertest.WithKey(ec), bearertest.WithAlg("ES384")},
		"bad header":    {bearertest.WithHeader("x", func() {})},
	} {
		if tok, err := iss.Mint(nil, opts...); err == nil {
			t.Errorf("%s: Mint = %q, want an error", name, tok)
		}
	}
	if _, err := iss.Mint(map[string]any{"c": make(chan int)}); err == nil {
		t.Error("Mint with an unencodable claim succeeded")
	}
}

func TestMintWithUnpublishedKey(t *testing.T) {
	iss := newIssuer(t)
	key, err := bearertest.NewKey("PS256")
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, nil, bearertest.WithKey(key))
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.PS256})
	if err != nil {
		t.Fatal(err)
	}
	if kid := jws.Signatures[0].Header.KeyID; kid != key.ID() {
		t.Errorf("kid = %q, want %q", kid, key.ID())
	}
	if set := fetchJWKS(t, iss); len(set.Key(key.ID())) != 0 {
		t.Error("unpublished key is in the JWKS")
	}
	if _, err := jws.Verify(key.Public()); err != nil {
		t.Errorf("Verify with the key itself: %v", err)
	}

	iss.PublishKey(key)
	iss.PublishKey(key) // once only
	verify(t, iss, tok, "PS256")

	// An RSA key made for PS256 can also sign RS256 when asked.
	tok = iss.MustMint(t, nil, bearertest.WithKey(key), bearertest.WithAlg("RS256"))
	if h, _ := parts(t, tok); h["alg"] != "RS256" || h["kid"] != key.ID() {
		t.Errorf("header = %v", h)
	}
}

func TestMintPayload(t *testing.T) {
	iss := newIssuer(t)
	tok, err := iss.MintPayload([]byte("not json"))
	if err != nil {
		t.Fatal(err)
	}
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := iss.CurrentKey("RS256")
	payload, err := jws.Verify(key.Public())
	if err != nil || string(payload) != "not json" {
		t.Errorf("Verify = %q, %v", payload, err)
	}
}

func TestTokenAlgIsMintDefault(t *testing.T) {
	iss := newIssuer(t, bearertest.WithTokenAlg("EdDSA"))
	if keys := fetchJWKS(t, iss).Keys; len(keys) != 1 || keys[0].Algorithm != "EdDSA" {
		t.Fatalf("JWKS = %v, want the EdDSA key only", keys)
	}
	verify(t, iss, iss.MustMint(t, nil), "EdDSA")
}

func TestKeysAreMadeOnFirstUse(t *testing.T) {
	iss := newIssuer(t)
	if n := len(fetchJWKS(t, iss).Keys); n != 1 {
		t.Fatalf("JWKS has %d keys at start, want 1", n)
	}
	iss.MustMint(t, nil, bearertest.WithAlg("ES256"))
	iss.MustMint(t, nil, bearertest.WithAlg("ES256"))
	if n := len(fetchJWKS(t, iss).Keys); n != 2 {
		t.Errorf("JWKS has %d keys after ES256, want 2", n)
	}
}
