package bearer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// A JWKSSource supplies an issuer's keys from somewhere else than its
// JWKS URL: a file that an agent replaces when the keys rotate, or an
// agent that pushes them (the SPIFFE Workload API). Config.JWKSSource
// puts it in the place of discovery and fetches.
//
// JWKS returns the current key set as a JSON Web Key Set. It is called
// when a fetch would be made, never per request: lazily, on the first
// token; when the keys are due again (KeyMaxAge); for a kid the keys held
// lack (at most once per RefetchCooldown). Every key is judged as a
// fetched one is (unusable entries are skipped and reported).
//
// An error is a failed fetch: the keys held stay in use, up to MaxStale,
// and the failure is logged and reported to the Observer. A document is
// the source's word, even one with no usable key: it replaces the keys
// held, so a source that means "trust nothing now" (a SPIFFE bundle with
// an empty keys array) is obeyed. A source that cannot tell a bad answer
// from a good one should return an error for it.
//
// JWKS must be safe to call from several goroutines (the Verifier calls
// it from one at a time), honour ctx, and be cheap when nothing changed.
type JWKSSource interface {
	JWKS(ctx context.Context) ([]byte, error)
}

// checkKeyOptions checks the settings of where keys come from and what a
// token's iss must be that need more than a glance.
func checkKeyOptions(cfg Config) error {
	if strings.EqualFold(cfg.KeyUse, "enc") {
		return errors.New("bearer: Config.KeyUse is enc: encryption keys never verify a token")
	}
	for _, c := range []byte(cfg.KeyUse) {
		if c <= ' ' || c > '~' {
			return fmt.Errorf("bearer: Config.KeyUse %q is not a JWK use", cfg.KeyUse)
		}
	}
	for iss, why := range cfg.RefusedIssuers {
		switch {
		case iss == "" || why == "":
			return errors.New("bearer: Config.RefusedIssuers holds an empty issuer or description")
		case iss == cfg.Issuer:
			return fmt.Errorf("bearer: Config.RefusedIssuers names the configured issuer %s", iss)
		}
	}
	if cfg.IssuerOptional {
		return checkKeyNamedIssuer(cfg)
	}
	return nil
}

// checkKeyNamedIssuer checks an IssuerOptional configuration: the keys are
// not the issuer's to discover, so Issuer is only their name.
func checkKeyNamedIssuer(cfg Config) error {
	switch {
	case cfg.JWKS == nil && cfg.JWKSFile == "" && cfg.JWKSSource == nil:
		return errors.New("bearer: Config.IssuerOptional needs the keys given (JWKS, JWKSFile or JWKSSource): keys found through an issuer vouch only for tokens that name it")
	case cfg.Introspection != nil:
		return errors.New("bearer: Config.IssuerOptional cannot be combined with Introspection: a token is only shown to the issuer it names")
	case strings.Contains(cfg.Issuer, TenantPlaceholder):
		return errors.New("bearer: Config.IssuerOptional cannot be combined with an issuer template")
	}
	u, err := url.Parse(cfg.Issuer)
	if err != nil || u.Scheme == "" || u.Opaque != "" || strings.ContainsAny(cfg.Issuer, " \t\r\n") {
		return fmt.Errorf("bearer: Config.Issuer %q is not an absolute URI", cfg.Issuer)
	}
	return nil
}

// refusedIssuer is the description RefusedIssuers gives iss, if any.
func (v *Verifier) refusedIssuer(iss string) *Error {
	if why, ok := v.refused[iss]; ok {
		return tokenError(ErrIssuer, "%s", why)
	}
	return nil
}
