package bearer_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// The benchmarks pair bouncer's full Verify with a baseline doing only what
// no verifier can skip: split the token, decode the signature, hash the
// signing input and check the signature with the standard library. The
// ratio of the two, taken in the same run, is the cost of everything else
// (parsing, key lookup, claim checks, normalisation).

func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{"RS256", "ES256"} {
		iss, err := bearertest.NewIssuer(bearertest.WithAudience(testAudience))
		if err != nil {
			b.Fatal(err)
		}
		defer iss.Close()
		// A realistic client-credentials token: about the claims Keycloak sends.
		tok := iss.MustMint(b, map[string]any{
			"scope": "country.read customer.read", "azp": "country-client",
			"realm_access": map[string]any{"roles": []string{"offline_access", "uma_authorization"}},
		}, bearertest.WithAlg(alg))
		key, _ := iss.CurrentKey(alg)
		v, err := newBenchVerifier(iss)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(bg, tok); err != nil {
			b.Fatal(err)
		}
		b.Run(alg+"/baseline", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !rawVerify(alg, key.Public(), tok) {
					b.Fatal("baseline refused the token")
				}
			}
		})
		b.Run(alg+"/bouncer", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(bg, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func rawVerify(alg string, pub crypto.PublicKey, tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		return false
	}
	digest := sha256.Sum256([]byte(tok[:i]))
	switch alg {
	case "RS256":
		return rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, digest[:], sig) == nil
	case "ES256":
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub.(*ecdsa.PublicKey), digest[:], r, s)
	}
	return false
}
