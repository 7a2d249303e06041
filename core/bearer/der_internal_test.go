package bearer

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"math/big"
	"testing"
)

// FuzzECDSASignature holds the DER re-encoding of JOSE signatures to
// crypto/ecdsa's own big.Int path: both must accept and refuse the same
// signatures, valid or mangled.
func FuzzECDSASignature(f *testing.F) {
	keys := map[int]*ecdsa.PrivateKey{}
	for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			f.Fatal(err)
		}
		keys[(c.Params().BitSize+7)/8] = k
	}
	digest := sha256.Sum256([]byte("signing input"))
	for size, k := range keys {
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			f.Fatal(err)
		}
		sig := append(r.FillBytes(make([]byte, size)), s.FillBytes(make([]byte, size))...)
		f.Add(sig, uint8(0), byte(0))
		f.Add(sig, uint8(1), byte(0x80))
		f.Add(make([]byte, 2*size), uint8(0), byte(0))
	}
	f.Fuzz(func(t *testing.T, sig []byte, at uint8, flip byte) {
		if len(sig) > 0 {
			sig[int(at)%len(sig)] ^= flip
		}
		k, ok := keys[len(sig)/2]
		if !ok || len(sig)%2 != 0 {
			return
		}
		size := len(sig) / 2
		want := ecdsa.Verify(&k.PublicKey, digest[:], new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:]))
		got := ecdsa.VerifyASN1(&k.PublicKey, digest[:], derSignature(nil, sig[:size], sig[size:]))
		if got != want {
			t.Fatalf("DER path says %v, big.Int path %v, for %x", got, want, sig)
		}
	})
}
