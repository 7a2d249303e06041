package bearertest

import "slices"

// CurrentKey returns the key the issuer signs alg tokens with, generating and
// publishing it on first use. Tests use it to learn a key ID, or to sign with
// [WithKey] after the issuer has moved on to another key.
func (i *Issuer) CurrentKey(alg string) (*Key, error) {
	i.mu.Lock()
	k := i.current[alg]
	i.mu.Unlock()
	if k != nil {
		return k, nil
	}
	// Generate without the lock: RSA keys take tens of milliseconds, and
	// requests must not wait for them.
	k, err := NewKey(alg)
	if err != nil {
		return nil, err
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if cur := i.current[alg]; cur != nil {
		return cur, nil // another goroutine was first
	}
	i.current[alg] = k
	i.published = append(i.published, k)
	return k, nil
}

// RotateKeys replaces every current key with a new one and publishes it.
// The previous keys stay published, as during a real rotation, so that tokens
// signed before it still verify; [Issuer.RetireOldKeys] ends the overlap.
func (i *Issuer) RotateKeys() {
	i.mu.Lock()
	algs := make([]string, 0, len(i.current))
	for alg := range i.current {
		algs = append(algs, alg)
	}
	i.mu.Unlock()
	slices.Sort(algs)

	fresh := make([]*Key, 0, len(algs))
	for _, alg := range algs {
		// Cannot fail: alg was valid when its first key was made, and key
		// generation only fails for invalid parameters.
		if k, err := NewKey(alg); err == nil {
			fresh = append(fresh, k)
		}
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, k := range fresh {
		i.current[k.alg] = k
		i.published = append(i.published, k)
	}
}

// RetireOldKeys unpublishes every key that is not current, so that tokens
// signed with them no longer verify.
func (i *Issuer) RetireOldKeys() {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = slices.DeleteFunc(i.published, func(k *Key) bool {
		return i.current[k.alg] != k
	})
}

// PublishKey adds k to the JWKS without signing with it, for instance a key
// from [NewKey] that a test later passes to [WithKey]. Publishing a Key that
// is already published does nothing; a different Key with the same ID is
// published next to it.
func (i *Issuer) PublishKey(k *Key) {
	if k == nil || k.signer == nil {
		return
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if !slices.Contains(i.published, k) {
		i.published = append(i.published, k)
	}
}

// UnpublishKey removes every key with ID kid from the JWKS. A current key
// stays current: the issuer goes on signing with it, which tests a verifier
// meeting a token whose key it cannot find.
func (i *Issuer) UnpublishKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.published = slices.DeleteFunc(i.published, func(k *Key) bool { return k.id == kid })
}

// PublishedKeys returns the keys in the JWKS, in the order it lists them.
func (i *Issuer) PublishedKeys() []*Key {
	i.mu.Lock()
	defer i.mu.Unlock()
	return slices.Clone(i.published)
}
