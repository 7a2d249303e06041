package bearertest_test

import (
	"crypto"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

func kids(t *testing.T, iss *bearertest.Issuer) map[string]bool {
	t.Helper()
	m := map[string]bool{}
	for _, k := range fetchJWKS(t, iss).Keys {
		m[k.KeyID] = true
	}
	return m
}

func TestRotateAndRetire(t *testing.T) {
	iss := newIssuer(t)
	oldRSA, _ := iss.CurrentKey("RS256")
	oldEC, _ := iss.CurrentKey("ES256")
	before := iss.MustMint(t, nil)

	iss.RotateKeys()
	newRSA, _ := iss.CurrentKey("RS256")
	newEC, _ := iss.CurrentKey("ES256")
	if newRSA.ID() == oldRSA.ID() || newEC.ID() == oldEC.ID() {
		t.Fatal("RotateKeys kept a current key")
	}
	after := iss.MustMint(t, nil)
	if h, _ := parts(t, after); h["kid"] != newRSA.ID() {
		t.Errorf("kid after rotation = %v, want %s", h["kid"], newRSA.ID())
	}
	if k := kids(t, iss); len(k) != 4 || !k[oldRSA.ID()] || !k[newEC.ID()] {
		t.Errorf("JWKS during overlap = %v", k)
	}
	verify(t, iss, before, "RS256")
	verify(t, iss, after, "RS256")

	iss.RetireOldKeys()
	if k := kids(t, iss); len(k) != 2 || !k[newRSA.ID()] || !k[newEC.ID()] {
		t.Errorf("JWKS after retiring = %v", k)
	}
	verify(t, iss, after, "RS256")
}

func TestPublishAndUnpublish(t *testing.T) {
	iss := newIssuer(t)
	cur, _ := iss.CurrentKey("RS256")
	iss.UnpublishKey(cur.ID())
	if k := kids(t, iss); len(k) != 0 {
		t.Errorf("JWKS = %v, want empty", k)
	}
	// The unpublished key is still current.
	if h, _ := parts(t, iss.MustMint(t, nil)); h["kid"] != cur.ID() {
		t.Errorf("kid = %v, want %s", h["kid"], cur.ID())
	}

	// Same kid, other key material.
	other, err := bearertest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	impostor := other.WithID(cur.ID())
	iss.PublishKey(impostor)
	iss.PublishKey(cur)
	if n := len(iss.PublishedKeys()); n != 2 {
		t.Errorf("%d keys published, want 2", n)
	}
	set := fetchJWKS(t, iss)
	if n := len(set.Key(cur.ID())); n != 2 {
		t.Errorf("%d keys with the shared kid, want 2", n)
	}
	iss.RetireOldKeys() // the impostor is not current
	if keys := iss.PublishedKeys(); len(keys) != 1 || keys[0] != cur {
		t.Errorf("published = %v, want the current key", keys)
	}
}

func TestNewKey(t *testing.T) {
	for _, alg := range []string{"", "HS256", "none", "RSA-OAEP"} {
		if _, err := bearertest.NewKey(alg); err == nil {
			t.Errorf("NewKey(%q) succeeded", alg)
		}
	}
	k, err := bearertest.NewKey("ES384")
	if err != nil {
		t.Fatal(err)
	}
	if k.Alg() != "ES384" || len(k.ID()) < 16 {
		t.Errorf("key %q %q", k.ID(), k.Alg())
	}
	if _, ok := k.Public().(*ecdsa.PublicKey); !ok {
		t.Errorf("Public() = %T", k.Public())
	}
	if c := k.WithID("x"); c.ID() != "x" || k.ID() == "x" || c.Alg() != "ES384" {
		t.Error("WithID changed the original or lost the algorithm")
	}
	var zero *bearertest.Key
	if zero.ID() != "" || zero.Alg() != "" || zero.Public() != nil || zero.PublicJWK() != nil || zero.WithID("x") != nil {
		t.Error("nil Key methods are not empty")
	}
	if (&bearertest.Key{}).PublicJWK() != nil {
		t.Error("zero Key has a JWK")
	}
}

func TestJWKEncoding(t *testing.T) {
	iss := newIssuer(t)
	sizes := map[string]int{"ES256": 32, "ES384": 48, "ES512": 66, "EdDSA": 32}
	for _, alg := range bearertest.Algorithms() {
		if _, err := iss.CurrentKey(alg); err != nil {
			t.Fatal(err)
		}
	}
	_, _, body := get(t, iss.Client(), iss.JWKSURL())
	var set struct{ Keys []map[string]string }
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("%q is not unpadded base64url: %v", s, err)
		}
		return b
	}
	for _, jwk := range set.Keys {
		if jwk["use"] != "sig" || jwk["kid"] == "" {
			t.Errorf("JWK %v", jwk)
		}
		switch jwk["kty"] {
		case "RSA":
			if jwk["e"] != "AQAB" || len(dec(jwk["n"])) != 256 || dec(jwk["n"])[0] == 0 {
				t.Errorf("RSA JWK e=%s, n of %d bytes", jwk["e"], len(dec(jwk["n"])))
			}
		case "EC":
			want := sizes[jwk["alg"]]
			if len(dec(jwk["x"])) != want || len(dec(jwk["y"])) != want {
				t.Errorf("%s coordinates are not %d bytes", jwk["alg"], want)
			}
		case "OKP":
			if jwk["crv"] != "Ed25519" || len(dec(jwk["x"])) != 32 || jwk["alg"] != "EdDSA" {
				t.Errorf("OKP JWK %v", jwk)
			}
		default:
			t.Errorf("kty %q", jwk["kty"])
		}
	}
	if len(set.Keys) != len(bearertest.Algorithms()) {
		t.Errorf("%d JWKs, want one per algorithm", len(set.Keys))
	}

	// go-jose agrees on the key material.
	parsed := fetchJWKS(t, iss)
	for _, k := range iss.PublishedKeys() {
		got := parsed.Key(k.ID())
		if len(got) != 1 {
			t.Fatalf("kid %s: %d keys", k.ID(), len(got))
		}
		if !equalPublic(k.Public(), got[0].Key) {
			t.Errorf("%s: go-jose parsed another key", k.Alg())
		}
	}
	if status, _, _ := getWithMethod(t, iss, http.MethodPost, iss.JWKSURL()); status != http.StatusMethodNotAllowed {
		t.Errorf("POST JWKS: %d", status)
	}
}

func equalPublic(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

func getWithMethod(t *testing.T, iss *bearertest.Issuer, method, url string) (int, http.Header, error) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := iss.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header, nil
}
