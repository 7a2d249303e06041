// Package jwtkind lets a package of bouncer verify JWTs that are not
// access tokens, such as the Security Event Tokens package ssf receives,
// with everything package bearer does for an issuer's keys: discovery,
// refresh on schedule and on an unknown kid, rotation, outage rules,
// allowed algorithms, the strict reading of headers and claims. Only the
// kind of token differs: its typ, where its issuer's metadata lives, and
// which claims mean what.
//
// Package bearer implements it and sets New when it is initialised, so
// that its key handling stays unexported and is written once; a package
// that uses New imports package bearer too.
package jwtkind

import (
	"context"
	"time"
)

// Profile is a kind of JWT.
type Profile struct {
	// Name is the kind's name in refusals ("Security Event Token").
	Name string
	// Types are the typ header values a token of this kind must carry,
	// compared without regard to case, "application/" optional. A token
	// without typ, or of another type, is refused: one kind of token is
	// never taken for another.
	Types []string
	// MetadataURLs returns, for an issuer identifier, the URLs its
	// metadata (an issuer and a jwks_uri) may be found at, in the order
	// tried; the next is tried only when one answers 404.
	MetadataURLs func(issuer string) ([]string, error)
}

// Verified is what a verified token says.
type Verified struct {
	// Payload is the token's claims, validated as one JSON object with
	// one reading (no repeated member, no invalid text).
	Payload []byte
	// Issuer is the token's iss, the issuer configured.
	Issuer string
	// IssuedAt is its iat, zero when it has none.
	IssuedAt time.Time
}

// Verifier verifies tokens of one kind from one issuer.
type Verifier interface {
	// Verify checks the token's form, its typ, its iss, its signature by
	// the issuer's keys, its aud, and its exp and nbf when present (iat
	// is the caller's to judge). A refusal is a *bearer.Error.
	Verify(ctx context.Context, token string) (Verified, error)
	// Ready fetches the issuer's metadata and keys now, if needed.
	Ready(ctx context.Context) error
	// Close ends what the verifier does in the background.
	Close() error
}

// New builds a Verifier of tokens of kind p, configured by cfg, which
// must be a bearer.Config. Package bearer sets it.
var New func(cfg any, p Profile) (Verifier, error)
