package bearer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/internal/dpop"
)

// proofRequest is a DPoP request with any method and path.
type proofRequest struct {
	method, path string
	header       http.Header
}

func (r proofRequest) Header(name string) []string        { return r.header.Values(name) }
func (proofRequest) Query(string) []string                { return nil }
func (proofRequest) Form(string) []string                 { return nil }
func (r proofRequest) Method() string                     { return r.method }
func (r proofRequest) Path() string                       { return r.path }
func (proofRequest) ClientCertificate() *x509.Certificate { return nil }

// recordingStore is a ReplayStore that tells what it was asked to record.
type recordingStore struct {
	mu   sync.Mutex
	seen map[string]bool
}

func (s *recordingStore) Remember(_ context.Context, key string, _ time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen[key] {
		return false, nil
	}
	s.seen[key] = true
	return true, nil
}

func (s *recordingStore) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.seen)
}

func (s *recordingStore) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

// proofDescriptions are every description a refusal of a DPoP proof may
// carry, with the bounds of a default configuration: fixed sentences,
// which repeat nothing a caller sent.
var proofDescriptions = []string{
	"the request has no DPoP header",
	"the request has more than one DPoP header",
	"the DPoP proof is longer than 8192 bytes",
	"the DPoP proof is not a compact JWS",
	"the DPoP proof's header is not base64url",
	"the DPoP proof's header is not a JSON object of one reading",
	"the DPoP proof's header has crit, enc or b64",
	"the DPoP proof's typ is not dpop+jwt",
	"the DPoP proof has no jwk header",
	"the DPoP proof's claims are not base64url",
	"the DPoP proof's signature is not base64url",
	"the DPoP proof's claims are not a JSON object of one reading, with strings and a numeric iat",
	"the DPoP proof's algorithm is not accepted",
	"the DPoP proof is for another method",
	"the DPoP proof has no iat",
	"the DPoP proof's iat is not within 1m0s of now",
	"the DPoP proof has no usable jti",
	"the DPoP proof is not for this access token (ath)",
	"this API cannot tell which URL the request was sent to",
	"the request's URL cannot be rebuilt",
	"the DPoP proof is for another URL (htu)",
	"the DPoP proof's jwk is not a usable public key",
	"the DPoP proof's RSA key is larger than 4096 bits",
	"the DPoP proof's key has no thumbprint",
	"the DPoP proof's algorithm does not fit its key",
	"the DPoP proof's signature does not verify",
	"the DPoP proof was used before",
}

const fuzzPublicURL = "https://api.example.com"

// FuzzCheckProof signs fuzzed DPoP proof headers and claims with a client's
// Ed25519 key and sends each, with a token bound to that key, a token bound
// to no key or a junk token, for a fuzzed method and path, to a Verifier.
// Its decision is held to a reference written here from RFC 9449 §4.3 and
// bouncer's documented rules: a proof is accepted exactly when the
// reference accepts it, once; its jti is handed to the replay store only
// when it is accepted; and a refusal's description repeats nothing the
// request says. Where the reference cannot tell (members of the jwk whose
// reading is go-jose's), an acceptance must still bind the proof to the
// token's key.
func FuzzCheckProof(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"), bearertest.WithClock(func() time.Time { return now }))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(iss.Close)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	x := base64.RawURLEncoding.EncodeToString(pub)
	jwk := `{"kty":"OKP","crv":"Ed25519","x":"` + x + `"}`
	sum := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`))
	jkt := base64.RawURLEncoding.EncodeToString(sum[:])
	bound := iss.MustMint(f, map[string]any{"cnf": map[string]any{"jkt": jkt}})
	tokens := []string{bound, iss.MustMint(f, nil), "junk-token"}
	store := &recordingStore{seen: map[string]bool{}}
	v, err := New(Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Now: func() time.Time { return now },
		Logger: slog.New(slog.DiscardHandler), DPoP: &DPoP{PublicURL: fuzzPublicURL, Replay: store}})
	if err != nil {
		f.Fatal(err)
	}

	ath := dpop.AccessTokenHash(bound)
	header := `{"typ":"dpop+jwt","alg":"EdDSA","jwk":` + jwk + `}`
	claims := func(extra string) string {
		return `{"jti":"j-1","htm":"GET","htu":"https://api.example.com/country","iat":1800000000,"ath":"` + ath + `"` + extra + `}`
	}
	for _, seed := range []struct {
		header, claims, method, path string
		token                        uint8
		tamper                       bool
	}{
		{header, claims(""), "GET", "/country", 0, false},
		{header, claims(""), "GET", "/country", 1, false},
		{header, claims(""), "GET", "/country", 2, false},
		{header, claims(""), "GET", "/country", 0, true},
		{header, claims(""), "POST", "/country", 0, false},
		{header, claims(""), "GET", "/country/", 0, false},
		{header, claims(`,"nonce":"n"`), "GET", "/%63ountry", 0, false},
		{`{"typ":"DPoP+JWT","alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"` + x + `","use":"sig","alg":"EdDSA","kid":"k","key_ops":["verify"]}}`, claims(""), "GET", "/country", 0, false},
		{`{"typ":"dpop+jwt","alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"` + x + `","d":"` + x + `"}}`, claims(""), "GET", "/country", 0, false},
		{`{"typ":"dpop+jwt","alg":"EdDSA","jwk":{"kty":"OKP","crv":"Ed25519","x":"` + x + `","use":"enc"}}`, claims(""), "GET", "/country", 0, false},
		{`{"typ":"dpop+jwt","alg":"ES256","jwk":` + jwk + `}`, claims(""), "GET", "/country", 0, false},
		{`{"typ":"dpop+jwt","alg":"EdDSA","jwk":` + jwk + `,"crit":["x"]}`, claims(""), "GET", "/country", 0, false},
		{`{"typ":"dpop+jwt","alg":"EdDSA","jwk":` + jwk + `,"typ":"dpop+jwt"}`, claims(""), "GET", "/country", 0, false},
		{header, `{"jti":"j-2","htm":"GET","htu":"HTTPS://API.example.com:443/country?q#f","iat":1800000059.5,"ath":"` + ath + `"}`, "GET", "/country", 0, false},
		{header, `{"jti":"j-3","htm":"GET","htu":"https://api.example.com/country","iat":1799999939,"ath":"` + ath + `"}`, "GET", "/country", 0, false},
		{header, `{"jti":"","htm":"GET","htu":"https://api.example.com/country","iat":1800000000,"ath":"` + ath + `"}`, "GET", "/country", 0, false},
		{header, `{"jti":"j-4","htm":"GET","htu":"https://:443/country","iat":1800000000,"ath":"` + ath + `"}`, "GET", "/country", 0, false},
		{header, `{"jti":"j-5","htm":"GET","htu":"https://api.example.com/country","iat":"1800000000","ath":"` + ath + `"}`, "GET", "/country", 0, false},
	} {
		f.Add([]byte(seed.header), []byte(seed.claims), seed.method, seed.path, seed.token, seed.tamper)
	}
	enc := base64.RawURLEncoding.EncodeToString
	f.Fuzz(func(t *testing.T, header, claims []byte, method, path string, which uint8, tamper bool) {
		store.reset()
		tok := tokens[int(which)%len(tokens)]
		signingInput := enc(header) + "." + enc(claims)
		sig := ed25519.Sign(priv, []byte(signingInput))
		if tamper {
			sig[0] ^= 1
		}
		proof := signingInput + "." + enc(sig)
		r := proofRequest{method: method, path: path, header: http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {proof}}}
		want, sure, why := referenceProof(header, claims, method, path, x, ath, now)
		switch {
		case len(proof) > defaultMaxProofBytes:
			want, sure, why = false, true, "longer than the bound"
		case tamper:
			want, sure, why = false, true, "signature altered"
		case tok != bound:
			want, sure, why = false, true, "the token is not bound to the proof's key"
		}
		_, err := v.Check(context.Background(), r)
		recorded := store.len()
		if sure && (err == nil) != want {
			t.Fatalf("Check err = %v; reference: %s\nheader %s\nclaims %s\nmethod %q path %q token %d", err, why, header, claims, method, path, which%3)
		}
		if err != nil {
			e, ok := err.(*Error)
			if !ok || errors.Is(err, ErrReplayStoreUnavailable) || errors.Is(err, ErrIssuerUnavailable) {
				t.Fatalf("refusal %v is not a refusal of the request", err)
			}
			if recorded != 0 {
				t.Fatalf("a refused request recorded %d jti: %v", recorded, err)
			}
			if errors.Is(err, ErrDPoPProof) && !slices.Contains(proofDescriptions, e.Description) {
				t.Fatalf("description %q is not one of the fixed ones", e.Description)
			}
			return
		}
		if tok != bound || recorded != 1 {
			t.Fatalf("accepted token %d, recording %d jti", which%3, recorded)
		}
		_, err = v.Check(context.Background(), r)
		if e, ok := err.(*Error); !ok || !errors.Is(err, ErrDPoPProof) || e.Description != "the DPoP proof was used before" {
			t.Fatalf("replay: %v", err)
		}
	})
}

// referenceProof decides a DPoP proof signed with the client's Ed25519 key
// (x) as RFC 9449 §4.3 and bouncer's documentation say, for a request with
// method and path to fuzzPublicURL at now, with the token bound to that key
// (whose hash is wantATH).
// sure is false when the answer hangs on how go-jose reads a jwk member
// the reference does not model.
func referenceProof(header, claims []byte, method, path, x, wantATH string, now time.Time) (accept, sure bool, why string) {
	if !oneReading(header) || !oneReading(claims) {
		return false, true, "a segment without one reading"
	}
	var h map[string]json.RawMessage
	_ = json.Unmarshal(header, &h)
	for _, refused := range []string{"crit", "enc", "b64"} {
		if _, ok := h[refused]; ok {
			return false, true, "header " + refused
		}
	}
	typ, ok := refString(h, "typ")
	if !ok || !strings.EqualFold(typ, "dpop+jwt") {
		return false, true, "typ"
	}
	if alg, ok := refString(h, "alg"); !ok || alg != "EdDSA" {
		return false, true, "alg for an Ed25519 key"
	}
	var c map[string]json.RawMessage
	_ = json.Unmarshal(claims, &c)
	for _, name := range []string{"jti", "htm", "htu", "ath", "nonce"} {
		if v, present := c[name]; present && v[0] != '"' {
			return false, true, name + " is not a string"
		}
	}
	iat, present := c["iat"]
	if !present || (iat[0] != '-' && (iat[0] < '0' || iat[0] > '9')) {
		return false, true, "iat is not a number"
	}
	f, err := strconv.ParseFloat(string(iat), 64)
	if err != nil || math.Abs(f) > 1e15 {
		return false, true, "iat out of range"
	}
	sec, frac := math.Modf(f)
	if at := time.Unix(int64(sec), int64(frac*1e9)); at.Before(now.Add(-defaultDPoPWindow)) || at.After(now.Add(defaultDPoPWindow)) {
		return false, true, "iat outside the window"
	}
	htm, _ := refString(c, "htm")
	jti, _ := refString(c, "jti")
	htu, _ := refString(c, "htu")
	ath, _ := refString(c, "ath")
	switch {
	case htm != method:
		return false, true, "htm"
	case jti == "" || len(jti) > 256:
		return false, true, "jti"
	case ath != wantATH:
		return false, true, "ath"
	}
	want, err := dpop.NormalizeURL(fuzzPublicURL + path)
	if got, err2 := dpop.NormalizeURL(htu); err != nil || err2 != nil || got != want {
		return false, true, "htu"
	}
	raw, present := h["jwk"]
	if !present || raw[0] != '{' {
		return false, true, "no jwk object"
	}
	var k map[string]json.RawMessage
	_ = json.Unmarshal(raw, &k)
	if _, private := k["d"]; private {
		return false, true, "private jwk"
	}
	kty, ok1 := refString(k, "kty")
	crv, ok2 := refString(k, "crv")
	if !ok1 || !ok2 || kty != "OKP" || crv != "Ed25519" {
		return false, true, "not an Ed25519 jwk"
	}
	sure = true
	for name, v := range k {
		switch name {
		case "kty", "crv":
		case "x":
			if s, ok := refString(k, "x"); !ok || s != x {
				sure = false // another spelling of the key, or another key
			}
		case "use", "alg", "kid":
			s, ok := refString(k, name)
			switch {
			case string(v) == "null":
				sure = false
			case !ok:
				return false, true, "jwk " + name + " is not a string"
			case name == "use" && s != "" && s != "sig":
				return false, true, "jwk use"
			case name == "alg" && s != "" && s != "EdDSA":
				return false, true, "jwk alg"
			}
		case "key_ops":
			var ops []string
			switch {
			case string(v) == "null" || json.Unmarshal(v, &ops) != nil:
				sure = false
			case !slices.Contains(ops, "verify"):
				return false, true, "jwk key_ops"
			}
		default:
			sure = false
		}
	}
	if _, present := k["x"]; !present {
		return false, true, "jwk without x"
	}
	return true, sure, "accepted"
}

func refString(m map[string]json.RawMessage, name string) (string, bool) {
	v, ok := m[name]
	if !ok || v[0] != '"' {
		return "", false
	}
	var s string
	return s, json.Unmarshal(v, &s) == nil
}
