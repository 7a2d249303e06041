package rsakey

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"math/big"
	"sync"
	"testing"
)

// Key sizes, including ones whose bit length is 8n+1 (PSS's encoded
// message is then one byte shorter than the modulus) and odd byte lengths.
var sizes = []int{1024, 1031, 2048, 2049, 2056, 3072, 4096}

var (
	keysOnce sync.Once
	keys     []*rsa.PrivateKey
)

func testKeys(tb testing.TB) []*rsa.PrivateKey {
	keysOnce.Do(func() {
		for _, bits := range sizes {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				tb.Fatal(err)
			}
			keys = append(keys, k)
		}
	})
	return keys
}

var algs = []struct {
	hash crypto.Hash
	pss  bool
}{{crypto.SHA256, false}, {crypto.SHA384, false}, {crypto.SHA512, false}, {crypto.SHA256, true}, {crypto.SHA384, true}, {crypto.SHA512, true}}

func digestOf(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(msg)
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384(msg)
		return d[:]
	}
	d := sha512.Sum512(msg)
	return d[:]
}

var pssOpts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}

// FuzzVerify holds Key to crypto/rsa: on valid signatures (signed here, then
// possibly altered), on arbitrary bytes, on signatures of the wrong length,
// for every key size and algorithm, both must give the same answer.
func FuzzVerify(f *testing.F) {
	f.Add(uint8(0), uint8(0), []byte("msg"), []byte{}, true, uint16(0), byte(0))
	f.Add(uint8(3), uint8(4), []byte("msg"), []byte{}, true, uint16(5), byte(1))
	f.Add(uint8(2), uint8(1), []byte(""), []byte{1, 2, 3}, false, uint16(0), byte(0))
	f.Add(uint8(4), uint8(5), []byte("x"), make([]byte, 256), false, uint16(0), byte(0))
	f.Add(uint8(1), uint8(3), []byte("y"), []byte{}, true, uint16(200), byte(0x80))
	f.Fuzz(func(t *testing.T, ki, ai uint8, msg, sig []byte, sign bool, at uint16, flip byte) {
		priv := testKeys(t)[int(ki)%len(sizes)]
		alg := algs[int(ai)%len(algs)]
		digest := digestOf(alg.hash, msg)
		if sign {
			var err error
			if alg.pss {
				sig, err = rsa.SignPSS(rand.Reader, priv, alg.hash, digest, pssOpts)
			} else {
				sig, err = rsa.SignPKCS1v15(rand.Reader, priv, alg.hash, digest)
			}
			if err != nil {
				t.Skip(err)
			}
		}
		if len(sig) > 0 {
			sig[int(at)%len(sig)] ^= flip
		}
		k, err := New(&priv.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		var want, got bool
		if alg.pss {
			want = rsa.VerifyPSS(&priv.PublicKey, alg.hash, digest, sig, pssOpts) == nil
			got = k.VerifyPSS(alg.hash, digest, sig)
		} else {
			want = rsa.VerifyPKCS1v15(&priv.PublicKey, alg.hash, digest, sig) == nil
			got = k.VerifyPKCS1v15(alg.hash, digest, sig)
		}
		if got != want {
			t.Fatalf("%d-bit key, %v pss=%v: rsakey says %v, crypto/rsa %v (sig %x)", priv.N.BitLen(), alg.hash, alg.pss, got, want, sig)
		}
		if sign && flip == 0 && !got {
			t.Fatal("a valid signature was refused")
		}
	})
}

func TestNewRefusesImpossibleKeys(t *testing.T) {
	k := testKeys(t)[0].PublicKey
	even := k
	even.N = new(big.Int).Lsh(k.N, 1)
	for name, pub := range map[string]*rsa.PublicKey{
		"even modulus":  &even,
		"exponent 1":    {N: k.N, E: 1},
		"even exponent": {N: k.N, E: 65536},
		// crypto/rsa refuses exponents above 2^31-1; a huge one would
		// make every check cost a square and a multiply per bit of it.
		"exponent 2^31+1": {N: k.N, E: 1<<31 + 1},
		"exponent 2^62+1": {N: k.N, E: 1<<62 + 1},
	} {
		if _, err := New(pub); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// The largest exponent crypto/rsa takes is taken here too.
func TestNewTakesTheLargestExponent(t *testing.T) {
	k := testKeys(t)[0].PublicKey
	if _, err := New(&rsa.PublicKey{N: k.N, E: 1<<31 - 1}); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkVerifyPKCS1v15(b *testing.B) {
	priv := testKeys(b)[2]
	digest := digestOf(crypto.SHA256, []byte("signing input"))
	sig, _ := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, digest)
	k, _ := New(&priv.PublicKey)
	b.Run("crypto-rsa", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if rsa.VerifyPKCS1v15(&priv.PublicKey, crypto.SHA256, digest, sig) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("rsakey", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !k.VerifyPKCS1v15(crypto.SHA256, digest, sig) {
				b.Fatal("refused")
			}
		}
	})
}
