package bearertest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
)

// Key is a private signing key with its key ID and algorithm. Keys are
// immutable, so one Key can be shared between issuers and goroutines.
//
// An issuer's own keys come from [Issuer.CurrentKey]. [NewKey] makes a key
// that no issuer publishes, to sign tokens a verifier must reject because it
// cannot find their key.
type Key struct {
	id     string
	alg    string
	signer crypto.Signer
}

// NewKey generates a key for the signature algorithm alg (one of
// [Algorithms]) with a fresh random key ID. RSA keys are 2048 bits.
func NewKey(alg string) (*Key, error) {
	a, err := lookupAlgorithm(alg)
	if err != nil {
		return nil, err
	}
	if a.keyType == keyNone {
		return nil, errors.New(`bearertest: algorithm "none" has no key`)
	}
	s, err := generateKey(a.keyType)
	if err != nil {
		return nil, err
	}
	return &Key{id: randomID(), alg: alg, signer: s}, nil
}

// ID returns the key ID, the "kid" of the JWK and of tokens signed with it.
func (k *Key) ID() string {
	if k == nil {
		return ""
	}
	return k.id
}

// Alg returns the algorithm the key was made for, the "alg" of its JWK.
func (k *Key) Alg() string {
	if k == nil {
		return ""
	}
	return k.alg
}

// Public returns the public key: *rsa.PublicKey, *ecdsa.PublicKey or
// ed25519.PublicKey. It is nil for a nil or zero Key.
func (k *Key) Public() crypto.PublicKey {
	if k == nil || k.signer == nil {
		return nil
	}
	return k.signer.Public()
}

// WithID returns a copy of k that has the key ID kid. Publishing it next to k,
// or in place of k, tests how a verifier handles two keys with one ID, or a
// known ID whose key material changed.
func (k *Key) WithID(kid string) *Key {
	if k == nil {
		return nil
	}
	c := *k
	c.id = kid
	return &c
}

// PublicJWK returns the public key as a JWK (RFC 7517) with kty, kid, use
// "sig" and alg, in a map so that a test can alter or drop members before
// serving it with [Issuer.SetJWKSHandler]. Binary members are base64url
// without padding: RSA n and e minimal big-endian, EC coordinates at the
// full size of the curve. It is nil for a nil or zero Key.
func (k *Key) PublicJWK() map[string]any {
	if k == nil || k.signer == nil {
		return nil
	}
	jwk := map[string]any{"kid": k.id, "use": "sig", "alg": k.alg}
	switch pub := k.signer.Public().(type) {
	case *rsa.PublicKey:
		jwk["kty"] = "RSA"
		jwk["n"] = b64(pub.N.Bytes())
		jwk["e"] = b64(bigBytes(pub.E))
	case *ecdsa.PublicKey:
		point, err := pub.Bytes() // 0x04 || X || Y, each at the curve's size
		if err != nil {
			return nil
		}
		size := (len(point) - 1) / 2
		jwk["kty"] = "EC"
		jwk["crv"] = pub.Curve.Params().Name
		jwk["x"] = b64(point[1 : 1+size])
		jwk["y"] = b64(point[1+size:])
	case ed25519.PublicKey:
		jwk["kty"] = "OKP"
		jwk["crv"] = "Ed25519"
		jwk["x"] = b64(pub)
	default:
		return nil
	}
	return jwk
}

// fits reports whether k can sign with a.
func (k *Key) fits(a algorithm) bool {
	return k != nil && k.signer != nil && keyTypeOf(k.signer) == a.keyType
}

// randomID returns 128 random bits, base64url-encoded: used for key IDs and
// token IDs, which must not repeat.
func randomID() string {
	b := make([]byte, 16)
	rand.Read(b) // never fails: crypto/rand.Read aborts the program instead
	return b64(b)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
