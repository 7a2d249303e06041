// Package rsakey verifies RSA signatures (RSASSA-PKCS1-v1_5 and RSASSA-PSS,
// RFC 8017 §8) with a public key prepared once.
//
// crypto/rsa rebuilds the modulus and its Montgomery constants on every
// verification: about half of an RS256 check on a 2048-bit key. An issuer
// signs thousands of tokens with one key, so bouncer prepares each key when
// it is fetched and verifies with the standard library's own modular
// arithmetic, published as filippo.io/bigmod. Only public values are
// involved (the key, the signature, the digest), so nothing here needs to
// run in constant time. A fuzz target holds every answer to crypto/rsa's.
package rsakey

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"errors"
	"hash"

	"filippo.io/bigmod"
)

// Key is an RSA public key ready for verification.
type Key struct {
	n    *bigmod.Modulus
	e    uint
	size int // bytes of the modulus: the length of every signature
	bits int
}

// MaxExponent is the largest public exponent taken, as crypto/rsa takes
// none larger. The public operation costs a squaring for every bit of the
// exponent, so without a bound a key could make one check cost dozens of
// ordinary ones.
const MaxExponent = 1<<31 - 1

// New prepares pub. The modulus must be odd and the exponent an odd number
// from 3 to MaxExponent, as for every key crypto/rsa verifies with.
func New(pub *rsa.PublicKey) (*Key, error) {
	if pub.N == nil || pub.N.Sign() <= 0 || pub.N.Bit(0) == 0 {
		return nil, errors.New("rsakey: the modulus is not a positive odd number")
	}
	if pub.E < 3 || pub.E&1 == 0 {
		return nil, errors.New("rsakey: the public exponent is not odd and above 2")
	}
	if pub.E > MaxExponent {
		return nil, errors.New("rsakey: the public exponent is above 2^31-1")
	}
	n, err := bigmod.NewModulus(pub.N.Bytes())
	if err != nil {
		return nil, err
	}
	return &Key{n: n, e: uint(pub.E), size: n.Size(), bits: n.BitLen()}, nil
}

// encrypt is the RSA public operation: sig^e mod n, as size bytes. A
// signature of the wrong length or not below the modulus is refused, as
// RFC 8017 §8.2.2 step 1 and §5.2.2 step 1 say.
func (k *Key) encrypt(sig []byte) ([]byte, bool) {
	if len(sig) != k.size {
		return nil, false
	}
	s, err := bigmod.NewNat().SetBytes(sig, k.n)
	if err != nil {
		return nil, false
	}
	return bigmod.NewNat().ExpShortVarTime(s, k.e, k.n).Bytes(k.n), true
}

// digestInfo are the DER prefixes of RFC 8017 §9.2 note 1.
var digestInfo = map[crypto.Hash][]byte{
	crypto.SHA256: {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20},
	crypto.SHA384: {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30},
	crypto.SHA512: {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40},
}

// VerifyPKCS1v15 reports whether sig is a valid RSASSA-PKCS1-v1_5 signature
// of digest: EM = 0x00 0x01 FF…FF 0x00 DigestInfo(digest) (RFC 8017 §9.2),
// compared whole.
func (k *Key) VerifyPKCS1v15(h crypto.Hash, digest, sig []byte) bool {
	prefix, ok := digestInfo[h]
	if !ok || len(digest) != h.Size() {
		return false
	}
	tLen := len(prefix) + len(digest)
	if k.size < tLen+11 {
		return false
	}
	em, ok := k.encrypt(sig)
	if !ok {
		return false
	}
	ok = em[0] == 0 && em[1] == 1
	ps := em[2 : k.size-tLen-1]
	for _, b := range ps {
		ok = ok && b == 0xff
	}
	ok = ok && em[k.size-tLen-1] == 0
	ok = ok && subtle.ConstantTimeCompare(em[k.size-tLen:k.size-len(digest)], prefix) == 1
	return ok && subtle.ConstantTimeCompare(em[k.size-len(digest):], digest) == 1
}

// VerifyPSS reports whether sig is a valid RSASSA-PSS signature of digest
// with MGF1 over h and a salt as long as the hash, as JWS's PS256, PS384 and
// PS512 require (RFC 7518 §3.5): EMSA-PSS-VERIFY of RFC 8017 §9.1.2.
func (k *Key) VerifyPSS(h crypto.Hash, digest, sig []byte) bool {
	newHash := hashes[h]
	hLen := h.Size()
	if newHash == nil || len(digest) != hLen {
		return false
	}
	out, ok := k.encrypt(sig)
	if !ok {
		return false
	}
	emBits := k.bits - 1
	emLen := (emBits + 7) / 8
	em := out
	if emLen < len(out) { // the modulus is 8n+1 bits long: one more byte
		if out[0] != 0 {
			return false
		}
		em = out[1:]
	}
	sLen := hLen
	if emLen < hLen+sLen+2 || em[emLen-1] != 0xbc {
		return false
	}
	db := em[:emLen-hLen-1]
	hh := em[emLen-hLen-1 : emLen-1]
	zeroBits := uint(8*emLen - emBits)
	if db[0]>>(8-zeroBits) != 0 {
		return false
	}
	mgf1XOR(db, newHash(), hh)
	db[0] &= 0xff >> zeroBits
	psLen := emLen - hLen - sLen - 2
	for _, b := range db[:psLen] {
		if b != 0 {
			return false
		}
	}
	if db[psLen] != 0x01 {
		return false
	}
	// M' = 8 zero bytes || digest || salt, hashed from a copy: digest
	// written to the hash.Hash interface would escape, and with it the
	// caller's stack buffer that every RSA and ECDSA check hashes into.
	salt := db[len(db)-sLen:]
	mPrime := append(append(make([]byte, 8, 8+hLen+sLen), digest...), salt...)
	m := newHash()
	m.Write(mPrime)
	return subtle.ConstantTimeCompare(m.Sum(nil), hh) == 1
}

var hashes = map[crypto.Hash]func() hash.Hash{
	crypto.SHA256: sha256.New,
	crypto.SHA384: sha512.New384,
	crypto.SHA512: sha512.New,
}

// mgf1XOR XORs out with MGF1(seed) over h (RFC 8017 §B.2.1).
func mgf1XOR(out []byte, h hash.Hash, seed []byte) {
	var counter [4]byte
	var digest []byte
	for done := 0; done < len(out); {
		h.Reset()
		h.Write(seed)
		h.Write(counter[:])
		digest = h.Sum(digest[:0])
		for i := 0; i < len(digest) && done < len(out); i++ {
			out[done] ^= digest[i]
			done++
		}
		for i := 3; i >= 0; i-- {
			if counter[i]++; counter[i] != 0 {
				break
			}
		}
	}
}
