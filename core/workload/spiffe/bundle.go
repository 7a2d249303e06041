package spiffe

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	josejson "github.com/go-jose/go-jose/v4/json"
)

// maxBundleBytes bounds a bundle: real ones are a few kilobytes, and a
// file or agent must not make a verifier buffer without limit.
const maxBundleBytes = 1 << 20

// JWTSVIDUse is the JWK use of a bundle's JWT-SVID signing keys
// (JWT-SVID §6); keys with another use (x509-svid, or none) are not for
// JWT-SVIDs and are ignored.
const JWTSVIDUse = "jwt-svid"

// ErrBundle is what ParseBundle's refusals wrap.
var ErrBundle = errors.New("spiffe: not a valid SPIFFE bundle")

// Bundle is what ParseBundle reads of a SPIFFE bundle (SPIFFE Trust
// Domain and Bundle §4): a JSON Web Key Set with SPIFFE's members. The
// keys themselves are judged by package bearer, one by one.
type Bundle struct {
	// Sequence is spiffe_sequence, which grows with every change of the
	// bundle; HasSequence says whether the bundle has one.
	Sequence    uint64
	HasSequence bool
	// RefreshHint is spiffe_refresh_hint: how often its publisher
	// suggests checking for a new bundle. Zero when absent.
	RefreshHint time.Duration
	// Keys counts the entries with use jwt-svid. Zero means the trust
	// domain vouches for no JWT-SVID now, and every token is refused.
	Keys int
}

// ParseBundle reads a SPIFFE bundle strictly: a JSON object whose keys
// member is an array (empty allowed: the trust domain withdrew its keys),
// spiffe_sequence and spiffe_refresh_hint non-negative integers when
// present, every key an object, and every jwt-svid key with a kid
// (JWT-SVID §6.1). Member names match exactly and may not repeat, so a
// bundle cannot be read two ways. Keys of other uses are left alone, as
// the specification asks.
func ParseBundle(b []byte) (Bundle, error) {
	var out Bundle
	if len(b) > maxBundleBytes {
		return out, bundleError("larger than %d bytes", maxBundleBytes)
	}
	var doc struct {
		Keys        *[]josejson.RawMessage `json:"keys"`
		Sequence    josejson.RawMessage    `json:"spiffe_sequence"`
		RefreshHint josejson.RawMessage    `json:"spiffe_refresh_hint"`
	}
	if err := josejson.Unmarshal(b, &doc); err != nil {
		return out, bundleError("not a JSON object of the bundle's members: %v", err)
	}
	if doc.Keys == nil {
		return out, bundleError("no keys array")
	}
	if doc.Sequence != nil {
		n, ok := integer(doc.Sequence)
		if !ok {
			return out, bundleError("spiffe_sequence is not a non-negative integer")
		}
		out.Sequence, out.HasSequence = n, true
	}
	if doc.RefreshHint != nil {
		n, ok := integer(doc.RefreshHint)
		if !ok {
			return out, bundleError("spiffe_refresh_hint is not a non-negative integer")
		}
		out.RefreshHint = time.Duration(min(n, uint64(maxHint/time.Second))) * time.Second
	}
	for i, raw := range *doc.Keys {
		var k struct {
			Use *string `json:"use"`
			Kid *string `json:"kid"`
		}
		if len(raw) == 0 || raw[0] != '{' {
			return out, bundleError("key %d is not a JSON object", i)
		}
		if err := josejson.Unmarshal(raw, &k); err != nil {
			return out, bundleError("key %d: %v", i, err)
		}
		if k.Use == nil || *k.Use != JWTSVIDUse {
			continue
		}
		if k.Kid == nil || *k.Kid == "" {
			return out, bundleError("jwt-svid key %d has no kid", i)
		}
		out.Keys++
	}
	return out, nil
}

// integer reads a JSON number that is a non-negative integer of 64 bits,
// written as one: digits only, no sign, fraction, exponent or quotes.
func integer(raw []byte) (uint64, bool) {
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	return n, err == nil
}

// maxHint bounds the refresh hint read, so that it fits a Duration.
const maxHint = 100 * 365 * 24 * time.Hour

func bundleError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBundle, fmt.Sprintf(format, args...))
}
