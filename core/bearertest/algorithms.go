package bearertest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // registers SHA-256 for crypto.Hash.New
	_ "crypto/sha512" // registers SHA-384 and SHA-512 for crypto.Hash.New
	"errors"
	"fmt"
	"math/big"
)

// keyType is the kind of private key an algorithm signs with. An issuer keeps
// one current key per algorithm, because a published JWK names exactly one
// "alg" (RFC 7517 §4.4) and careful verifiers hold the token to it.
type keyType int

const (
	keyNone keyType = iota
	keyRSA
	keyP256
	keyP384
	keyP521
	keyEd25519
)

// rsaBits is the size of generated RSA keys: the smallest size that every
// verifier accepts, and quick enough to generate in tests.
const rsaBits = 2048

// algorithm describes how one JWS "alg" value signs (RFC 7518 §3, RFC 8037).
type algorithm struct {
	keyType keyType
	hash    crypto.Hash
	pss     bool
}

var algorithms = map[string]algorithm{
	"RS256": {keyRSA, crypto.SHA256, false},
	"RS384": {keyRSA, crypto.SHA384, false},
	"RS512": {keyRSA, crypto.SHA512, false},
	"PS256": {keyRSA, crypto.SHA256, true},
	"PS384": {keyRSA, crypto.SHA384, true},
	"PS512": {keyRSA, crypto.SHA512, true},
	"ES256": {keyP256, crypto.SHA256, false},
	"ES384": {keyP384, crypto.SHA384, false},
	"ES512": {keyP521, crypto.SHA512, false},
	"EdDSA": {keyEd25519, 0, false},
	"none":  {keyNone, 0, false},
}

// Algorithms returns the signature algorithms an [Issuer] can sign with, in a
// fixed order, so that tests can range over all of them. The unsecured "none"
// algorithm is also accepted by [WithAlg] but is not listed here, because it
// is not a signature algorithm.
func Algorithms() []string {
	return []string{
		"RS256", "RS384", "RS512",
		"PS256", "PS384", "PS512",
		"ES256", "ES384", "ES512",
		"EdDSA",
	}
}

func lookupAlgorithm(alg string) (algorithm, error) {
	a, ok := algorithms[alg]
	if !ok {
		return algorithm{}, fmt.Errorf("bearertest: unsupported algorithm %q", alg)
	}
	return a, nil
}

func generateKey(t keyType) (crypto.Signer, error) {
	switch t {
	case keyRSA:
		return rsa.GenerateKey(rand.Reader, rsaBits)
	case keyP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case keyP384:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case keyP521:
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case keyEd25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	}
	return nil, errors.New("bearertest: algorithm has no key")
}

func keyTypeOf(s crypto.Signer) keyType {
	switch k := s.(type) {
	case *rsa.PrivateKey:
		return keyRSA
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return keyP256
		case elliptic.P384():
			return keyP384
		case elliptic.P521():
			return keyP521
		}
	case ed25519.PrivateKey:
		return keyEd25519
	}
	return keyNone
}

// sign computes the JWS signature of input. ECDSA signatures are the fixed
// size R || S concatenation of RFC 7518 §3.4, not ASN.1.
func (a algorithm) sign(s crypto.Signer, input []byte) ([]byte, error) {
	var digest []byte
	if a.hash != 0 {
		h := a.hash.New()
		h.Write(input)
		digest = h.Sum(nil)
	}
	switch k := s.(type) {
	case *rsa.PrivateKey:
		if a.pss {
			return rsa.SignPSS(rand.Reader, k, a.hash, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		}
		return rsa.SignPKCS1v15(rand.Reader, k, a.hash, digest)
	case *ecdsa.PrivateKey:
		r, sig, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			return nil, err
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		sig.FillBytes(out[size:])
		return out, nil
	case ed25519.PrivateKey:
		return ed25519.Sign(k, input), nil
	}
	return nil, errors.New("bearertest: unsupported private key type")
}

// bigBytes is the minimal big-endian encoding of n, as JWK RSA members use.
func bigBytes(n int) []byte { return big.NewInt(int64(n)).Bytes() }
