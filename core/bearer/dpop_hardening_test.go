package bearer_test

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// handmadeProof is a DPoP proof built from its parts, with a signature of
// the caller's choosing: what an attacker sends.
func handmadeProof(t testing.TB, header, claims map[string]any, sig []byte) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatal(err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "." + enc(sig)
}

// hugeRSAProof is a proof whose every cheap claim is right for token, with
// an RSA key of bits bits and public exponent e (big-endian), and a
// signature as long as the modulus: without a bound on the exponent, its
// check would cost a modular squaring for every bit of e.
func hugeRSAProof(t testing.TB, token string, bits int, e []byte) string {
	t.Helper()
	n := make([]byte, bits/8)
	if _, err := rand.Read(n); err != nil {
		t.Fatal(err)
	}
	n[0] |= 0x80
	n[len(n)-1] |= 1
	sig := make([]byte, len(n))
	if _, err := rand.Read(sig[1:]); err != nil {
		t.Fatal(err)
	}
	ath := sha256.Sum256([]byte(token))
	enc := base64.RawURLEncoding.EncodeToString
	return handmadeProof(t,
		map[string]any{"typ": "dpop+jwt", "alg": "RS256", "jwk": map[string]any{"kty": "RSA", "n": enc(n), "e": enc(e)}},
		map[string]any{"jti": enc(sig[:16]), "htm": http.MethodGet, "htu": publicURL + "/country/code/AUS", "iat": time.Now().Unix(), "ath": enc(ath[:])},
		sig)
}

// RSA public exponents above 2^31-1, which crypto/rsa refuses, are refused
// in a proof's key before any signature is checked with it; so is a
// modulus beyond 4096 bits.
func TestDPoPProofKeyBounds(t *testing.T) {
	r := newDPoPRig(t)
	for name, p := range map[string]string{
		"exponent 2^31+1":       hugeRSAProof(t, r.tok, 4096, []byte{0x80, 0, 0, 1}),
		"exponent 2^63-1":       hugeRSAProof(t, r.tok, 4096, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
		"modulus of 4104 bits":  hugeRSAProof(t, r.tok, 4104, []byte{1, 0, 1}),
		"modulus of 16384 bits": hugeRSAProof(t, r.tok, 16384, []byte{1, 0, 1}),
	} {
		_, err := r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, p))
		e := wantRefusal(t, err, bearer.ErrDPoPProof, http.StatusUnauthorized)
		if strings.Contains(e.Description, "signature") {
			t.Errorf("%s: the signature was checked: %q", name, e.Description)
		}
	}
	// A 4096-bit key with the largest exponent crypto/rsa takes is read,
	// and its (junk) signature checked.
	_, err := r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, hugeRSAProof(t, r.tok, 4096, []byte{0x7f, 0xff, 0xff, 0xff})))
	if e := wantRefusal(t, err, bearer.ErrDPoPProof, http.StatusUnauthorized); !strings.Contains(e.Description, "signature") {
		t.Errorf("exponent 2^31-1: %q", e.Description)
	}
}

// A proof's cheap claims are checked before its key is read or its
// signature checked: a proof for another URL with a key nobody could use
// is refused for its URL.
func TestDPoPCheapChecksFirst(t *testing.T) {
	r := newDPoPRig(t)
	for name, p := range map[string]string{
		"htu":   hugeRSAProof(t, r.tok, 4096, []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
		"iat":   hugeRSAProof(t, r.tok, 4096, []byte{1, 0, 1}),
		"ath":   hugeRSAProof(t, "another token", 4096, []byte{1, 0, 1}),
		"htm":   hugeRSAProof(t, r.tok, 4096, []byte{1, 0, 1}),
		"nokey": hugeRSAProof(t, r.tok, 4096, []byte{1, 0, 1}),
	} {
		req := dpopRequest("/country/code/AUS", r.tok, p)
		want := map[string]string{"htu": "htu", "iat": "iat", "ath": "ath", "htm": "method", "nokey": "htu"}[name]
		switch name {
		case "htu":
			req.path = "/country/code/NZL"
		case "iat":
			req = dpopRequest("/country/code/AUS", r.tok, reclaim(t, p, "iat", time.Now().Add(-time.Hour).Unix()))
		case "htm":
			req.method = http.MethodPost
		case "nokey":
			req = dpopRequest("/country/code/NZL", r.tok, reheader(t, p, "jwk", map[string]any{"kty": "RSA"}))
		}
		_, err := r.v.Check(bg, req)
		if e := wantRefusal(t, err, bearer.ErrDPoPProof, http.StatusUnauthorized); !strings.Contains(e.Description, want) {
			t.Errorf("%s: %q", name, e.Description)
		}
	}
}

// reclaim and reheader change one member of a handmade proof.
func reclaim(t *testing.T, proof, name string, value any) string {
	return remake(t, proof, 1, name, value)
}
func reheader(t *testing.T, proof, name string, value any) string {
	return remake(t, proof, 0, name, value)
}

func remake(t *testing.T, proof string, seg int, name string, value any) string {
	t.Helper()
	parts := strings.Split(proof, ".")
	var m map[string]any
	raw, _ := base64.RawURLEncoding.DecodeString(parts[seg])
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m[name] = value
	b, _ := json.Marshal(m)
	parts[seg] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// A refusal's description repeats nothing the proof says: not its key's
// members, not its header's or claims' values, not a parser's quote of
// them. Descriptions reach logs and answers.
func TestDPoPRefusalsRepeatNothing(t *testing.T) {
	r := newDPoPRig(t)
	const mark = "MARK3R"
	jwk := func(name string, value any) map[string]any {
		k := r.key.PublicJWK()
		k[name] = value
		return k
	}
	for name, p := range map[string]string{
		"jwk use":       r.proof(t, bearertest.WithProofHeader("jwk", jwk("use", mark))),
		"jwk key_ops":   r.proof(t, bearertest.WithProofHeader("jwk", jwk("key_ops", []string{mark}))),
		"jwk alg":       r.proof(t, bearertest.WithProofHeader("jwk", jwk("alg", mark))),
		"jwk kty":       r.proof(t, bearertest.WithProofHeader("jwk", jwk("kty", mark))),
		"jwk crv":       r.proof(t, bearertest.WithProofHeader("jwk", jwk("crv", mark))),
		"jwk x":         r.proof(t, bearertest.WithProofHeader("jwk", jwk("x", mark))),
		"alg":           r.proof(t, bearertest.WithProofHeader("alg", mark)),
		"typ":           r.proof(t, bearertest.WithProofHeader("typ", mark)),
		"header member": r.proof(t, bearertest.WithProofHeader("typ", map[string]any{mark: mark})),
		"htu":           r.proof(t, bearertest.WithProofClaim("htu", "https://"+mark+"/x")),
		"htm":           r.proof(t, bearertest.WithProofClaim("htm", mark)),
		"iat":           r.proof(t, bearertest.WithProofClaim("iat", mark)),
		"jti":           r.proof(t, bearertest.WithProofClaim("jti", strings.Repeat(mark, 100))),
		"ath":           r.proof(t, bearertest.WithProofClaim("ath", mark)),
		"claims member": r.proof(t, bearertest.WithProofClaim("htu", []string{mark})),
		"not base64url": mark + "!." + mark + "." + mark,
		"not three":     mark,
	} {
		_, err := r.v.Check(bg, dpopRequest("/country/code/AUS", r.tok, p))
		e := wantRefusal(t, err, bearer.ErrDPoPProof, http.StatusUnauthorized)
		resp := r.v.Response(err)
		if strings.Contains(e.Error(), mark) || strings.Contains(string(resp.Body), mark) || strings.Contains(strings.Join(resp.Header.Values("WWW-Authenticate"), " "), mark) {
			t.Errorf("%s: the refusal repeats the proof: %q", name, e.Error())
		}
	}
}

// Behind a proxy, a forwarded authority that names no host makes no URL a
// proof could name: such a request is refused, whatever the proof says.
func TestDPoPForwardedHostWithoutHost(t *testing.T) {
	r := newDPoPRig(t, func(d *bearer.DPoP) { d.PublicURL, d.TrustForwardedHeaders = "", true })
	for _, host := range []string{":8443", ":443", "api..example.com"} {
		p, _ := r.key.DPoPProof(http.MethodGet, "https://"+host+"/v1/country", r.tok, "")
		req := dpopRequest("/v1/country", r.tok, p)
		req.header.Set("X-Forwarded-Proto", "https")
		req.header.Set("X-Forwarded-Host", host)
		_, err := r.v.Check(bg, req)
		wantRefusal(t, err, bearer.ErrDPoPProof, http.StatusUnauthorized)
	}
}
