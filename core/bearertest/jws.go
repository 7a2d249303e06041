package bearertest

import (
	"encoding/json"
	"fmt"
)

// compactJWS builds a JWS in compact serialization (RFC 7515 §7.1) by hand,
// rather than with a JOSE library, so that the header can hold anything a
// test asks for, valid or not. With a nil key the signature is empty, as for
// "alg":"none" (RFC 7518 §3.6).
func compactJWS(header map[string]any, payload []byte, a algorithm, key *Key) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", fmt.Errorf("bearertest: encoding header: %w", err)
	}
	return signJWS(h, payload, a, key)
}

// signJWS signs the header and payload bytes as they are.
func signJWS(h, payload []byte, a algorithm, key *Key) (string, error) {
	input := b64(h) + "." + b64(payload)
	if key == nil {
		return input + ".", nil
	}
	sig, err := a.sign(key.signer, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}
