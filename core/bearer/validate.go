package bearer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
)

// A Validator judges a token after its signature and the standard checks
// (issuer, audience, times, type) have passed, for rules of the
// application's own: a tenant allow-list, a required claim, a maximum age.
// Its refusal means the token is wrong, not that it lacks a permission: the
// request gets 401 invalid_token with the validator's description. For
// "this token may not do that" write a Policy instead (403).
//
// A Validator runs on every verification of a token, so it must be cheap
// and must not block; it may read the application's claims with Typed.
// A Validator of your own is called with a copy of the claims of its own
// (see Claims); the built-in ones read them in place.
type Validator interface {
	Validate(ctx context.Context, c *Claims) error
}

// ValidatorFunc adapts a function to Validator.
type ValidatorFunc func(ctx context.Context, c *Claims) error

// Validate calls f(ctx, c).
func (f ValidatorFunc) Validate(ctx context.Context, c *Claims) error { return f(ctx, c) }

// builtin is a validator of this package: it reads the claims in place,
// never keeping or changing them.
type builtin struct{ ValidatorFunc }

// NewInvalidToken is the refusal of a Validator of your own: 401
// invalid_token with description. It wraps ErrClaim.
func NewInvalidToken(description string) *Error {
	return &Error{Code: CodeInvalidToken, Err: ErrClaim, Description: description}
}

// validate runs v's validators; any refusal becomes a 401 invalid_token
// wrapping ErrClaim (and the validator's own error). It runs on every
// request, cached tokens included, so ctx carries v's clock only when
// Config.Now set one: clockNow's time.Now is v's clock otherwise.
func (v *Verifier) validate(ctx context.Context, c *Claims) *Error {
	if len(v.validators) == 0 {
		return nil
	}
	if v.customClock {
		ctx = withClock(ctx, v.now)
	}
	for _, val := range v.validators {
		var err error
		if _, ok := val.(builtin); ok {
			err = val.Validate(ctx, c)
		} else {
			err = val.Validate(ctx, c.Clone()) // the application's own copy
		}
		if err == nil {
			continue
		}
		var e *Error
		if errors.As(err, &e) && e.Code == CodeInvalidToken && errors.Is(e, ErrClaim) {
			return e
		}
		return &Error{Code: CodeInvalidToken, Err: fmt.Errorf("%w: %w", ErrClaim, err), Description: err.Error()}
	}
	return nil
}

// RequireClaim refuses tokens without the top-level claim name (or with
// null as its value).
func RequireClaim(name string) Validator {
	return builtin{func(_ context.Context, c *Claims) error {
		if v, ok := c.value(name); !ok || isNull(v) {
			return NewInvalidToken(fmt.Sprintf("the token lacks the %s claim", name))
		}
		return nil
	}}
}

// ClaimOneOf refuses tokens whose top-level claim name is not one of the
// strings values, compared exactly: a tenant allow-list on Entra's tid, or
// with one value a claim that must be just that.
func ClaimOneOf(name string, values ...string) Validator {
	return builtin{func(_ context.Context, c *Claims) error {
		v, ok := c.value(name)
		if ok && v[0] == '"' && slices.Contains(values, unquote(v)) {
			return nil
		}
		return NewInvalidToken(fmt.Sprintf("the token's %s claim is not an accepted value", name))
	}}
}

// MaxTokenAge refuses tokens issued (iat) longer than age ago, and tokens
// without iat: for APIs that want fresh tokens whatever their exp says.
func MaxTokenAge(age time.Duration) Validator {
	return builtin{func(ctx context.Context, c *Claims) error {
		if c.IssuedAt.IsZero() {
			return NewInvalidToken("the token has no iat claim, so its age is unknown")
		}
		if clockNow(ctx).Sub(c.IssuedAt) > age {
			return NewInvalidToken(fmt.Sprintf("the token is older than %v", age))
		}
		return nil
	}}
}

// clockKey carries the verifier's clock to the validators it runs, so that
// time-based validators agree with the verifier's own checks.
type clockKey struct{}

func withClock(ctx context.Context, now func() time.Time) context.Context {
	return context.WithValue(ctx, clockKey{}, now)
}

func clockNow(ctx context.Context) time.Time {
	if f, ok := ctx.Value(clockKey{}).(func() time.Time); ok {
		return f()
	}
	return time.Now()
}
