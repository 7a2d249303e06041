package bearer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"iter"
	"slices"

	"github.com/bouncer-go/bouncer/core/internal/rsakey"
	"github.com/go-jose/go-jose/v4"
	josejson "github.com/go-jose/go-jose/v4/json"
)

// minRSABits is the smallest RSA modulus accepted (RFC 7518 §3.3).
const minRSABits = 2048

// publicKey is one issuer key usable for verification.
type publicKey struct {
	id  string
	alg string // the JWK's alg, or "" when the issuer does not name one (Entra)
	// issuer is the JWK's issuer member, which Entra's shared key sets
	// give each key (see checkKeyIssuer); "" when it names none.
	issuer string
	key    crypto.PublicKey
	rsa    *rsakey.Key // an RSA key prepared for verification
}

// same reports whether k and o are one key: the same material, for the
// same algorithm and issuer. A kid that a new set gives to another key
// is another key.
func (k *publicKey) same(o *publicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	return k.alg == o.alg && k.issuer == o.issuer && k.key.(equaler).Equal(o.key)
}

// keySet is an immutable snapshot of the issuer's signing keys.
type keySet struct {
	byID  map[string]*publicKey
	noKid []*publicKey // keys published without a kid
}

func (s *keySet) len() int {
	if s == nil {
		return 0
	}
	return len(s.byID) + len(s.noKid)
}

// lookup finds the key for a token's kid and alg. A token without kid is
// matched only when exactly one published key fits its algorithm, so that
// the choice is never ambiguous.
func (s *keySet) lookup(kid string, a *algorithm) (*publicKey, bool) {
	if s == nil {
		return nil, false
	}
	if kid != "" {
		k, ok := s.byID[kid]
		return k, ok
	}
	var found *publicKey
	for k := range s.all() {
		if (k.alg == "" || k.alg == a.name) && a.fits(k.key) {
			if found != nil {
				return nil, false
			}
			found = k
		}
	}
	return found, found != nil
}

// holds reports whether the set still has the key pub under kid (or, for a
// key without kid, anywhere among those without).
func (s *keySet) holds(kid string, pub *publicKey) bool {
	if s == nil {
		return false
	}
	if kid != "" {
		k := s.byID[kid]
		return k != nil && k.same(pub)
	}
	for _, k := range s.noKid {
		if k.same(pub) {
			return true
		}
	}
	return false
}

// takenAway reports whether next lacks a key of s: dropped, or its kid
// given to another key.
func (s *keySet) takenAway(next *keySet) bool {
	for k := range s.all() {
		if !next.holds(k.id, k) {
			return true
		}
	}
	return false
}

// all yields every key of the set, without copying it: lookup runs it on
// every token that names no kid.
func (s *keySet) all() iter.Seq[*publicKey] {
	return func(yield func(*publicKey) bool) {
		if s == nil {
			return
		}
		for _, k := range s.noKid {
			if !yield(k) {
				return
			}
		}
		for _, k := range s.byID {
			if !yield(k) {
				return
			}
		}
	}
}

// jwkMeta holds the JWK members go-jose does not interpret.
type jwkMeta struct {
	KeyOps []string `json:"key_ops"`
	Issuer *string  `json:"issuer"` // Entra: the issuer whose tokens the key signs
}

// skippedKey records why one published key was not taken.
type skippedKey struct {
	kid    string
	reason string
}

// parseJWKS reads an issuer's key set. Each entry is judged on its own: an
// entry that is unusable for verifying signatures (an encryption key, a
// symmetric key, an unknown key type, a short RSA modulus…) is skipped and
// reported, never allowed to spoil the rest of the set.
func parseJWKS(body []byte, maxKeys int) (*keySet, []skippedKey, error) {
	return parseKeySet(body, maxKeys, "")
}

// parseKeySet is parseJWKS taking the keys whose JWK use is use (see
// Config.KeyUse), or, when use is "", sig or none.
func parseKeySet(body []byte, maxKeys int, use string) (*keySet, []skippedKey, error) {
	// go-jose's encoding/json fork matches member names exactly and
	// refuses repeated ones: {"KEYS":[…]} holds no keys, and neither does
	// {"keys":[…],"keys":[…]}.
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := josejson.Unmarshal(body, &doc); err != nil {
		return nil, nil, fmt.Errorf("the JWKS is not a JSON object with a keys array: %w", err)
	}
	// Two keys under one kid would make the choice depend on order, so a
	// kid that more than one entry names (usable or not) is left out.
	kids := make(map[string]int, len(doc.Keys))
	for _, raw := range doc.Keys {
		if id := kidOf(raw); id != "" {
			kids[id]++
		}
	}
	set := &keySet{byID: make(map[string]*publicKey, len(doc.Keys))}
	var skipped []skippedKey
	for _, raw := range doc.Keys {
		if set.len() >= maxKeys {
			skipped = append(skipped, skippedKey{reason: fmt.Sprintf("more than %d keys published", maxKeys)})
			break
		}
		k, err := parseJWK(raw, use)
		switch {
		case err != nil:
			skipped = append(skipped, skippedKey{kid: k.id, reason: err.Error()})
		case k.id == "":
			set.noKid = append(set.noKid, k)
		case kids[k.id] > 1:
			skipped = append(skipped, skippedKey{kid: k.id, reason: fmt.Sprintf("kid published %d times", kids[k.id])})
		default:
			set.byID[k.id] = k
		}
	}
	return set, skipped, nil
}

// kidOf reads an entry's kid, or "" when it has none or cannot be read.
func kidOf(raw json.RawMessage) string {
	var id struct {
		Kid string `json:"kid"`
	}
	_ = josejson.Unmarshal(raw, &id)
	return id.Kid
}

func parseJWK(raw json.RawMessage, use string) (*publicKey, error) {
	var jwk jose.JSONWebKey
	var meta jwkMeta
	k := &publicKey{}
	if err := jwk.UnmarshalJSON(raw); err != nil {
		k.id = kidOf(raw)
		return k, fmt.Errorf("unusable JWK: %v", err)
	}
	k.id, k.alg, k.key = jwk.KeyID, jwk.Algorithm, jwk.Key
	if err := josejson.Unmarshal(raw, &meta); err != nil {
		return k, fmt.Errorf("unusable JWK: %v", err)
	}
	switch {
	case use == "" && jwk.Use != "" && jwk.Use != "sig":
		return k, fmt.Errorf("use is %q, not sig", jwk.Use)
	case use != "" && jwk.Use != use:
		return k, fmt.Errorf("use is %q, not %s", jwk.Use, use)
	case meta.KeyOps != nil && !slices.Contains(meta.KeyOps, "verify"):
		return k, fmt.Errorf("key_ops %v does not include verify", meta.KeyOps)
	case !jwk.IsPublic():
		return k, fmt.Errorf("the issuer published private key material")
	case meta.Issuer != nil && *meta.Issuer == "":
		return k, fmt.Errorf("issuer member is empty")
	}
	if meta.Issuer != nil {
		k.issuer = *meta.Issuer
	}
	if k.alg != "" {
		a, ok := algorithms[k.alg]
		if !ok {
			return k, fmt.Errorf("alg %q is not a supported signature algorithm", k.alg)
		}
		if !a.fits(k.key) {
			return k, fmt.Errorf("alg %q does not fit the key type", k.alg)
		}
	}
	switch key := k.key.(type) {
	case *rsa.PublicKey:
		if key.N.BitLen() < minRSABits {
			return k, fmt.Errorf("RSA modulus of %d bits is below %d", key.N.BitLen(), minRSABits)
		}
		// Such keys can never verify a signature: an RSA modulus is the
		// product of two odd primes and its public exponent is odd.
		if key.N.Bit(0) == 0 {
			return k, fmt.Errorf("RSA modulus is even")
		}
		if key.E < 3 || key.E%2 == 0 {
			return k, fmt.Errorf("RSA public exponent %d is not an odd number above 2", key.E)
		}
		if key.E > rsakey.MaxExponent {
			return k, fmt.Errorf("RSA public exponent %d is above 2^31-1, the largest crypto/rsa takes", key.E)
		}
		prepared, err := rsakey.New(key)
		if err != nil {
			return k, err
		}
		k.rsa = prepared
	case *ecdsa.PublicKey, ed25519.PublicKey:
	default:
		return k, fmt.Errorf("key type %T cannot verify signatures", key)
	}
	return k, nil
}
