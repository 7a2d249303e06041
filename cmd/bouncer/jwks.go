package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
)

// jwk is one published key, as the command shows it.
type jwk struct {
	Kid    string   `json:"kid"`
	Kty    string   `json:"kty"`
	Alg    string   `json:"alg"`
	Use    string   `json:"use"`
	KeyOps []string `json:"key_ops"`
	Crv    string   `json:"crv"`
	N      string   `json:"n"`

	raw json.RawMessage
}

// parseJWKS reads a key set's entries for display; an entry that does not
// decode is kept with what could be read, for bouncer to judge.
func parseJWKS(body []byte) ([]jwk, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("the JWKS is not a JSON object with a keys array: %v", err)
	}
	keys := make([]jwk, len(set.Keys))
	for i, raw := range set.Keys {
		_ = json.Unmarshal(raw, &keys[i])
		keys[i].raw = raw
	}
	return keys, nil
}

// shape is the key's type and size: "RSA 2048 bits", "EC P-256".
func (k jwk) shape() string {
	switch k.Kty {
	case "RSA":
		if n, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(k.N, "=")); err == nil && len(n) > 0 {
			return fmt.Sprintf("RSA %d bits", new(big.Int).SetBytes(n).BitLen())
		}
	case "EC", "OKP":
		if k.Crv != "" {
			return k.Kty + " " + k.Crv
		}
	case "":
		return "no kty"
	}
	return k.Kty
}
