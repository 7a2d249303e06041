package bearertest_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

func newIssuer(t *testing.T, opts ...bearertest.Option) *bearertest.Issuer {
	t.Helper()
	iss, err := bearertest.NewIssuer(opts...)
	if err != nil {
		t.Fatalf("NewIssuer: %v", err)
	}
	t.Cleanup(iss.Close)
	return iss
}

// get fetches url and returns the status, headers and body.
func get(t *testing.T, c *http.Client, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, body
}

// fetchJWKS fetches and parses the issuer's JWKS, as a verifier would.
func fetchJWKS(t *testing.T, iss *bearertest.Issuer) jose.JSONWebKeySet {
	t.Helper()
	status, hdr, body := get(t, iss.Client(), iss.JWKSURL())
	if status != http.StatusOK {
		t.Fatalf("JWKS status %d: %s", status, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/jwk-set+json" {
		t.Errorf("JWKS Content-Type = %q", ct)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatalf("parsing JWKS: %v\n%s", err, body)
	}
	return set
}

// verify checks tok's signature against the issuer's published JWKS with
// go-jose, accepting only alg, and returns the claims.
func verify(t *testing.T, iss *bearertest.Issuer, tok, alg string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		t.Fatalf("ParseSigned: %v", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	set := fetchJWKS(t, iss)
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("JWKS has %d keys with kid %q, want 1", len(keys), kid)
	}
	if keys[0].Algorithm != alg || keys[0].Use != "sig" {
		t.Errorf("JWK alg %q use %q, want %q sig", keys[0].Algorithm, keys[0].Use, alg)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("claims: %v", err)
	}
	return claims
}

// parts decodes the header and payload of a compact JWS without verifying.
func parts(t *testing.T, tok string) (header, payload map[string]any) {
	t.Helper()
	seg := strings.Split(tok, ".")
	if len(seg) != 3 {
		t.Fatalf("token has %d segments", len(seg))
	}
	decode := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("segment %q: %v", s, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("segment %s: %v", b, err)
		}
		return m
	}
	return decode(seg[0]), decode(seg[1])
}

type tokenReply struct {
	status int
	header http.Header
	body   map[string]any
}

// postToken sends a token request with form and, if id is not empty, HTTP
// Basic credentials form-urlencoded as RFC 6749 §2.3.1 requires.
func postToken(t *testing.T, iss *bearertest.Issuer, form url.Values, basicID, basicSecret string) tokenReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, iss.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if basicID != "" {
		req.SetBasicAuth(url.QueryEscape(basicID), url.QueryEscape(basicSecret))
	}
	return doToken(t, iss, req)
}

func doToken(t *testing.T, iss *bearertest.Issuer, req *http.Request) tokenReply {
	t.Helper()
	resp, err := iss.Client().Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("token response (status %d): %v", resp.StatusCode, err)
	}
	return tokenReply{resp.StatusCode, resp.Header, body}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
