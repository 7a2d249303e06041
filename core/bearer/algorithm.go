package bearer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
)

// DefaultAlgorithms are the asymmetric JWS algorithms accepted when
// Config.Algorithms is empty. "none" and the HMAC family are never accepted:
// a resource server holds only the issuer's public keys, and an HMAC check
// against a public key is the classic algorithm-confusion attack.
var DefaultAlgorithms = []string{
	"RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512",
	"ES256", "ES384", "ES512",
	"EdDSA",
}

// algorithm verifies one JWS alg with the standard library.
type algorithm struct {
	name  string
	hash  crypto.Hash    // zero for EdDSA, which signs the message itself
	curve elliptic.Curve // ECDSA only
	kind  keyKind
	pss   bool
}

type keyKind int

const (
	kindRSA keyKind = iota + 1
	kindEC
	kindOKP
)

var algorithms = map[string]*algorithm{
	"RS256": {name: "RS256", hash: crypto.SHA256, kind: kindRSA},
	"RS384": {name: "RS384", hash: crypto.SHA384, kind: kindRSA},
	"RS512": {name: "RS512", hash: crypto.SHA512, kind: kindRSA},
	"PS256": {name: "PS256", hash: crypto.SHA256, kind: kindRSA, pss: true},
	"PS384": {name: "PS384", hash: crypto.SHA384, kind: kindRSA, pss: true},
	"PS512": {name: "PS512", hash: crypto.SHA512, kind: kindRSA, pss: true},
	"ES256": {name: "ES256", hash: crypto.SHA256, kind: kindEC, curve: elliptic.P256()},
	"ES384": {name: "ES384", hash: crypto.SHA384, kind: kindEC, curve: elliptic.P384()},
	"ES512": {name: "ES512", hash: crypto.SHA512, kind: kindEC, curve: elliptic.P521()},
	"EdDSA": {name: "EdDSA", kind: kindOKP},
}

// fits reports whether key can check signatures made with a. The key type
// must match the algorithm family, and an EC key must be on the curve the
// algorithm names (RFC 7518 §3.4).
func (a *algorithm) fits(key crypto.PublicKey) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return a.kind == kindRSA
	case *ecdsa.PublicKey:
		return a.kind == kindEC && k.Curve == a.curve
	case ed25519.PublicKey:
		return a.kind == kindOKP
	}
	return false
}

// verify checks sig over signingInput. ECDSA signatures are accepted only in
// the fixed-size JOSE R||S form (RFC 7518 §3.4), never ASN.1 DER.
func (a *algorithm) verify(pk *publicKey, signingInput string, sig []byte) bool {
	msg := bytesOf(signingInput) // read only: hashed in place, not copied
	if a.kind == kindOKP {
		pub, ok := pk.key.(ed25519.PublicKey)
		return ok && len(sig) == ed25519.SignatureSize && ed25519.Verify(pub, msg, sig)
	}
	var sum [sha512.Size]byte
	var digest []byte
	switch a.hash {
	case crypto.SHA256:
		sum256 := sha256.Sum256(msg)
		digest = append(sum[:0], sum256[:]...)
	case crypto.SHA384:
		sum384 := sha512.Sum384(msg)
		digest = append(sum[:0], sum384[:]...)
	case crypto.SHA512:
		sum = sha512.Sum512(msg)
		digest = sum[:]
	default:
		return false
	}
	switch k := pk.key.(type) {
	case *rsa.PublicKey:
		// parseJWK, where every key comes from, prepares each RSA key
		// it accepts.
		if pk.rsa == nil {
			return false
		}
		if a.pss {
			return pk.rsa.VerifyPSS(a.hash, digest, sig)
		}
		return pk.rsa.VerifyPKCS1v15(a.hash, digest, sig)
	case *ecdsa.PublicKey:
		size := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*size {
			return false
		}
		var der [2*(66+4) + 3]byte // ES512's worst case
		return ecdsa.VerifyASN1(k, digest, derSignature(der[:0], sig[:size], sig[size:]))
	}
	return false
}

// derSignature re-encodes the JOSE form R||S as the ASN.1 DER SEQUENCE of
// two INTEGERs that crypto/ecdsa verifies, appending to buf. It does what
// ecdsa.Verify does with two big.Ints, without them.
func derSignature(buf, r, s []byte) []byte {
	var body [2 * (66 + 4)]byte
	ints := appendDERInt(appendDERInt(body[:0], r), s)
	buf = appendDERLen(append(buf, 0x30), len(ints))
	return append(buf, ints...)
}

func appendDERInt(b, v []byte) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	pad := v[0]&0x80 != 0 // a set high bit would make it negative
	n := len(v)
	if pad {
		n++
	}
	b = appendDERLen(append(b, 0x02), n)
	if pad {
		b = append(b, 0)
	}
	return append(b, v...)
}

// appendDERLen appends a length below 256, all an ECDSA signature needs.
func appendDERLen(b []byte, n int) []byte {
	if n < 0x80 {
		return append(b, byte(n))
	}
	return append(b, 0x81, byte(n))
}

// allowedAlgorithms turns Config.Algorithms into the lookup used per token,
// refusing names that are unknown, symmetric or "none".
func allowedAlgorithms(names []string) (map[string]*algorithm, error) {
	if len(names) == 0 {
		names = DefaultAlgorithms
	}
	allowed := make(map[string]*algorithm, len(names))
	for _, n := range names {
		a, ok := algorithms[n]
		if !ok {
			return nil, fmt.Errorf("bearer: algorithm %q is not supported (only asymmetric JWS algorithms are: %v)", n, DefaultAlgorithms)
		}
		allowed[n] = a
	}
	return allowed, nil
}
