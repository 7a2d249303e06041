package bearer_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// The benchmarks pair bouncer's full Verify with a baseline doing only what
// no verifier can skip: split the token, decode the signature, hash the
// signing input and check the signature with the standard library. The
// ratio of the two is the cost of everything else (parsing, key lookup,
// claim checks, normalisation).
//
// BenchmarkVerify gives each side's ns/op and allocs/op. BenchmarkRatio
// interleaves the two in rounds within one benchmark and reports the median
// of the per-round ratios ("x-baseline"), which a busy machine disturbs far
// less than two separate measurements.

var benchAlgs = []string{"RS256", "PS256", "ES256", "EdDSA"}

type benchCase struct {
	alg    string
	v      *bearer.Verifier
	key    crypto.PublicKey
	tokens []string // one, or many with distinct headers for the miss path
}

// newBenchCase mints n tokens for alg: a realistic client-credentials
// token, about the claims Keycloak sends. With n = 1 the verifier has no
// token cache: every Verify is the full verification. With n > 1 each
// token has a header of its own and the token cache holds 4 entries, so
// that no cache helps and the miss path pays for filling the cache.
func newBenchCase(b *testing.B, alg string, n int) benchCase {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(testAudience), bearertest.WithKeysFor(alg))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	claims := map[string]any{
		"scope": "country.read customer.read", "azp": "country-client",
		"realm_access": map[string]any{"roles": []string{"offline_access", "uma_authorization"}},
	}
	c := benchCase{alg: alg}
	for i := range n {
		var opts []bearertest.MintOption
		if n > 1 {
			opts = append(opts, bearertest.WithHeader("x5t", fmt.Sprintf("%08d", i)))
		}
		c.tokens = append(c.tokens, iss.MustMint(b, claims, append(opts, bearertest.WithAlg(alg))...))
	}
	key, _ := iss.CurrentKey(alg)
	c.key = key.Public()
	cache := bearer.CacheConfig{Disable: true}
	if n > 1 {
		cache = bearer.CacheConfig{MaxEntries: 4}
	}
	if c.v, err = newBenchVerifier(iss, cache); err != nil {
		b.Fatal(err)
	}
	if _, err := c.v.Verify(bg, c.tokens[0]); err != nil {
		b.Fatal(err)
	}
	return c
}

func (c benchCase) baseline(i int) {
	if !rawVerify(c.alg, c.key, c.tokens[i%len(c.tokens)]) {
		panic("baseline refused the token")
	}
}

func (c benchCase) bouncer(i int) {
	if _, err := c.v.Verify(bg, c.tokens[i%len(c.tokens)]); err != nil {
		panic(err)
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, alg := range benchAlgs {
		c := newBenchCase(b, alg, 1)
		b.Run(alg+"/baseline", func(b *testing.B) { loop(b, c.baseline) })
		b.Run(alg+"/bouncer", func(b *testing.B) { loop(b, c.bouncer) })
	}
	// The miss path: every token has a header never seen before.
	c := newBenchCase(b, "RS256", 512)
	b.Run("RS256-distinct/baseline", func(b *testing.B) { loop(b, c.baseline) })
	b.Run("RS256-distinct/bouncer", func(b *testing.B) { loop(b, c.bouncer) })
}

func loop(b *testing.B, f func(int)) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		f(i)
		i++
	}
}

// BenchmarkRatio reports Verify's cost as a multiple of the baseline's,
// measured in interleaved rounds.
func BenchmarkRatio(b *testing.B) {
	for _, alg := range benchAlgs {
		c := newBenchCase(b, alg, 1)
		b.Run(alg, func(b *testing.B) { ratio(b, c) })
	}
	c := newBenchCase(b, "RS256", 512)
	b.Run("RS256-distinct", func(b *testing.B) { ratio(b, c) })
}

func ratio(b *testing.B, c benchCase) {
	const batch = 16
	var ratios []float64
	i := 0
	time1 := func(f func(int)) time.Duration {
		start := time.Now()
		for range batch {
			f(i)
			i++
		}
		return time.Since(start)
	}
	for b.Loop() {
		base := time1(c.baseline)
		full := time1(c.bouncer)
		ratios = append(ratios, float64(full)/float64(base))
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "x-baseline")
}

// BenchmarkCacheHit measures a token verified before: what a
// client-credentials caller's every request but the first costs, through
// Check as middleware judges it, and through Verify, which also copies the
// claims for the application.
func BenchmarkCacheHit(b *testing.B) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(testAudience))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	v, err := newBenchVerifier(iss, bearer.CacheConfig{})
	if err != nil {
		b.Fatal(err)
	}
	tok := iss.MustMint(b, map[string]any{"scope": "country.read customer.read", "azp": "country-client"})
	if _, err := v.Verify(bg, tok); err != nil {
		b.Fatal(err)
	}
	hr, _ := http.NewRequest(http.MethodGet, "https://api.example.com/country", nil)
	hr.Header.Set("Authorization", "Bearer "+tok)
	r := bearer.HTTPRequest(hr) // as the net/http, Gin and Echo adapters hand requests over
	policy := bearer.RequireScope("country.read")
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Check(bg, r, policy); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(bg, tok); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkToken measures finding the token in a request: the
// Authorization header read and checked against RFC 6750's grammar.
func BenchmarkToken(b *testing.B) {
	c := newBenchCase(b, "RS256", 1)
	var r bearer.Request = withAuth("Bearer " + c.tokens[0])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.v.Token(r); err != nil {
			b.Fatal(err)
		}
	}
}

func rawVerify(alg string, pub crypto.PublicKey, tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return false
	}
	if alg == "EdDSA" {
		return ed25519.Verify(pub.(ed25519.PublicKey), []byte(tok[:i]), sig)
	}
	digest := sha256.Sum256([]byte(tok[:i]))
	switch alg {
	case "RS256":
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig) == nil
	case "PS256":
		return rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case "ES256":
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub.(*ecdsa.PublicKey), digest[:], r, s)
	}
	return false
}

// BenchmarkIssuers is the cost of trusting several issuers: one
// Verifier, and MultiVerifiers of 1 and 10 issuers, on the same RS256
// token (of the last issuer), without the token cache.
func BenchmarkIssuers(b *testing.B) {
	var issuers []*bearertest.Issuer
	var cfgs []bearer.Config
	for range 10 {
		iss, err := bearertest.NewIssuer(bearertest.WithAudience(testAudience))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(iss.Close)
		issuers = append(issuers, iss)
		cfgs = append(cfgs, bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: quiet})
	}
	last := issuers[len(issuers)-1]
	tok := last.MustMint(b, map[string]any{"scope": "country.read"})
	single, _ := newBenchVerifier(last, bearer.CacheConfig{Disable: true})
	one, _ := bearer.NewMulti(bearer.MultiConfig{Issuers: cfgs[9:], Cache: bearer.CacheConfig{Disable: true}})
	ten, _ := bearer.NewMulti(bearer.MultiConfig{Issuers: cfgs, Cache: bearer.CacheConfig{Disable: true}})
	for name, v := range map[string]interface {
		Verify(context.Context, string) (*bearer.Claims, error)
	}{"verifier": single, "multi-1": one, "multi-10": ten} {
		if _, err := v.Verify(bg, tok); err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(bg, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDPoP is the cost of a DPoP request (the proof's checks, its
// ES256 signature, the replay store, then the token) against a Bearer
// request with a token of the same shape, through Check, without the
// token cache, and with it (where a Bearer repeat costs almost nothing
// and a DPoP request still needs its proof checked).
func BenchmarkDPoP(b *testing.B) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(testAudience))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	key, _ := bearertest.NewKey("ES256")
	claims := map[string]any{"scope": "country.read", "azp": "country-client"}
	plain := iss.MustMint(b, claims)
	claims["cnf"] = map[string]any{"jkt": key.Thumbprint()}
	bound := iss.MustMint(b, claims)
	const pool = 4096
	proofs := make([]string, pool)
	for i := range proofs {
		proofs[i], _ = key.DPoPProof(http.MethodGet, "https://api.example.com/country", bound, "")
	}
	for _, cache := range []bool{false, true} {
		v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: quiet,
			Cache: bearer.CacheConfig{Disable: !cache}, DPoP: &bearer.DPoP{PublicURL: "https://api.example.com"}})
		if err != nil {
			b.Fatal(err)
		}
		bearerReq := fakeRequest{path: "/country", header: http.Header{"Authorization": {"Bearer " + plain}}}
		if _, err := v.Check(bg, bearerReq); err != nil {
			b.Fatal(err)
		}
		name := map[bool]string{false: "uncached", true: "cached"}[cache]
		b.Run(name+"/bearer", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Check(bg, bearerReq); err != nil {
					b.Fatal(err)
				}
			}
		})
		i := 0
		b.Run(name+"/dpop", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if i == pool {
					b.StopTimer()
					for j := range proofs { // fresh jtis: the replay store has seen these
						proofs[j], _ = key.DPoPProof(http.MethodGet, "https://api.example.com/country", bound, "")
					}
					i = 0
					b.StartTimer()
				}
				req := fakeRequest{path: "/country", header: http.Header{"Authorization": {"DPoP " + bound}, "Dpop": {proofs[i]}}}
				i++
				if _, err := v.Check(bg, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDPoPRatio is what a DPoP request with a cached token costs
// (Check: the proof's checks, its signature, the replay store, the token
// from the cache), as a multiple of the one check no verifier can skip,
// the proof's ES256 signature verified with the standard library
// ("x-es256"): decoding it, hashing the signing input, and
// ecdsa.VerifyASN1, its cheapest entry, with the key parsed beforehand.
// The two are measured in interleaved rounds of one run, on the same
// proofs.
func BenchmarkDPoPRatio(b *testing.B) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(testAudience))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	key, _ := bearertest.NewKey("ES256")
	pub := key.Public().(*ecdsa.PublicKey)
	tok := iss.MustMint(b, map[string]any{"scope": "country.read", "azp": "country-client", "cnf": map[string]any{"jkt": key.Thumbprint()}})
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: quiet,
		DPoP: &bearer.DPoP{PublicURL: publicURL, ReplayCapacity: 1 << 24}})
	if err != nil {
		b.Fatal(err)
	}
	const path = "/country/code/AUS"
	const batch, pool = 16, 4096
	proofs := make([]string, pool)
	fill := func() {
		for i := range proofs {
			proofs[i], _ = key.DPoPProof(http.MethodGet, publicURL+path, tok, "")
		}
	}
	fill()
	if _, err := v.Check(bg, dpopRequest(path, tok, proofs[0])); err != nil { // the token is cached from here on
		b.Fatal(err)
	}
	reqs := make([]bearer.Request, pool)
	for i := range reqs {
		reqs[i] = dpopRequest(path, tok, proofs[i])
	}
	i := 1
	floor := func() time.Duration {
		start := time.Now()
		for _, p := range proofs[i : i+batch] {
			dot := strings.LastIndexByte(p, '.')
			sig, err := base64.RawURLEncoding.DecodeString(p[dot+1:])
			if err != nil {
				panic(err)
			}
			digest := sha256.Sum256([]byte(p[:dot]))
			if !ecdsa.VerifyASN1(pub, digest[:], derSignature(sig[:32], sig[32:])) {
				panic("ES256 refused the proof")
			}
		}
		return time.Since(start)
	}
	check := func() time.Duration {
		start := time.Now()
		for _, r := range reqs[i : i+batch] {
			if _, err := v.Check(bg, r); err != nil {
				panic(err)
			}
		}
		return time.Since(start)
	}
	var ratios []float64
	for b.Loop() {
		if i+batch > pool {
			b.StopTimer()
			fill() // fresh jtis: the replay store has seen these
			for j := range reqs {
				reqs[j] = dpopRequest(path, tok, proofs[j])
			}
			i = 0
			b.StartTimer()
		}
		f := floor()
		c := check()
		i += batch
		ratios = append(ratios, float64(c)/float64(f))
	}
	slices.Sort(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "x-es256")
}

// derSignature is r and s, big-endian, as the ASN.1 SEQUENCE of two
// INTEGERs crypto/ecdsa verifies (short lengths: P-256's).
func derSignature(r, s []byte) []byte {
	integer := func(b []byte, v []byte) []byte {
		for len(v) > 1 && v[0] == 0 {
			v = v[1:]
		}
		if v[0]&0x80 != 0 {
			return append(append(b, 0x02, byte(len(v)+1), 0), v...)
		}
		return append(append(b, 0x02, byte(len(v))), v...)
	}
	body := integer(integer(make([]byte, 0, 72), r), s)
	return append([]byte{0x30, byte(len(body))}, body...)
}

// BenchmarkDPoPFlood is what a DPoP request made by a caller without a
// usable token costs, as a ratio to a genuine DPoP request (a fresh proof
// with a cached token) measured in the same rounds ("x-genuine"): proofs
// signed with a new key of the caller's own every time, with a junk token,
// a genuine token bound to no key, or a stolen token bound to another key;
// proofs with a 4096-bit RSA key whose exponent is 2^63-1, refused before
// their signature; and, the worst a caller can make bouncer check, with
// the largest exponent taken, 2^31-1. None of them is recorded in the
// replay store.
func BenchmarkDPoPFlood(b *testing.B) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(testAudience))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Logger: quiet,
		DPoP: &bearer.DPoP{PublicURL: publicURL, ReplayCapacity: 1 << 26}})
	if err != nil {
		b.Fatal(err)
	}
	key, _ := bearertest.NewKey("ES256")
	bound := iss.MustMint(b, map[string]any{"scope": "country.read", "cnf": map[string]any{"jkt": key.Thumbprint()}})
	unbound := iss.MustMint(b, map[string]any{"scope": "country.read"})
	const path = "/country/code/AUS"
	genuine := func(int) (string, string) {
		p, _ := key.DPoPProof(http.MethodGet, publicURL+path, bound, "")
		return bound, p
	}
	attacker := func(tok func(int) string) func(int) (string, string) {
		return func(i int) (string, string) {
			k, _ := bearertest.NewKey("ES256")
			t := tok(i)
			p, _ := k.DPoPProof(http.MethodGet, publicURL+path, t, "")
			return t, p
		}
	}
	rsa := func(e ...byte) func(int) (string, string) {
		return func(int) (string, string) { return bound, hugeRSAProof(b, bound, 4096, e) }
	}
	for _, flood := range []struct {
		name string
		make func(int) (string, string)
	}{
		{"junk-token", attacker(func(i int) string { return fmt.Sprintf("junk-%d", i) })},
		{"unbound-token", attacker(func(int) string { return unbound })},
		{"stolen-token", attacker(func(int) string { return bound })},
		{"rsa4096-e2^63-1", rsa(0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)},
		{"rsa4096-e2^31-1", rsa(0x7f, 0xff, 0xff, 0xff)},
	} {
		b.Run(flood.name, func(b *testing.B) {
			const batch, pool = 8, 1024
			type req struct{ tok, proof string }
			var good, bad []req
			fill := func() {
				good, bad = good[:0], bad[:0]
				for i := range pool {
					t, p := genuine(i)
					good = append(good, req{t, p})
					t, p = flood.make(i)
					bad = append(bad, req{t, p})
				}
			}
			fill()
			i := 0
			run := func(rs []req, accept bool) time.Duration {
				start := time.Now()
				for _, r := range rs[i : i+batch] {
					_, err := v.Check(bg, dpopRequest(path, r.tok, r.proof))
					if (err == nil) != accept {
						b.Fatalf("accepted %v: %v", err == nil, err)
					}
				}
				return time.Since(start)
			}
			var ratios []float64
			for b.Loop() {
				if i+batch > pool {
					b.StopTimer()
					fill()
					i = 0
					b.StartTimer()
				}
				g := run(good, true)
				f := run(bad, false)
				i += batch
				ratios = append(ratios, float64(f)/float64(g))
			}
			slices.Sort(ratios)
			b.ReportMetric(ratios[len(ratios)/2], "x-genuine")
		})
	}
}
