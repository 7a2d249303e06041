package bearer

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Code is an RFC 6750 §3.1 error code.
type Code string

// The RFC 6750 error codes. A request with no credentials at all carries no
// code (the zero Code), as §3.1 asks.
const (
	CodeInvalidRequest    Code = "invalid_request"    // 400: the request is malformed
	CodeInvalidToken      Code = "invalid_token"      // 401: the token is not acceptable
	CodeInsufficientScope Code = "insufficient_scope" // 403: the token lacks a privilege

	// RFC 9449 §7.1's codes, in DPoP challenges.
	CodeInvalidDPoPProof Code = "invalid_dpop_proof" // 401: the DPoP proof is not acceptable
	CodeUseDPoPNonce     Code = "use_dpop_nonce"     // 401: retry with the DPoP-Nonce given
)

// Sentinel errors, to be tested with errors.Is. Every error returned by
// Verify, VerifyRequest, Check or a Policy wraps exactly one of them inside
// an *Error.
var (
	ErrMissingToken      = errors.New("bearer: no bearer token in the request")
	ErrInvalidRequest    = errors.New("bearer: malformed or ambiguous request")
	ErrMalformed         = errors.New("bearer: malformed token")
	ErrAlgorithm         = errors.New("bearer: disallowed signing algorithm")
	ErrUnknownKey        = errors.New("bearer: no issuer key for this token")
	ErrSignature         = errors.New("bearer: bad signature")
	ErrExpired           = errors.New("bearer: token expired")
	ErrNotYetValid       = errors.New("bearer: token not yet valid")
	ErrIssuer            = errors.New("bearer: wrong issuer")
	ErrAudience          = errors.New("bearer: wrong audience")
	ErrType              = errors.New("bearer: wrong token type")
	ErrSenderConstrained = errors.New("bearer: the request does not satisfy the token's binding")
	ErrLifetime          = errors.New("bearer: token lifetime too long")
	ErrClaim             = errors.New("bearer: claim refused by a validator")
	ErrInactive          = errors.New("bearer: token not active")
	ErrDPoPProof         = errors.New("bearer: invalid DPoP proof")
	ErrDPoPNonce         = errors.New("bearer: DPoP proof without the server's nonce")
	// ErrRevoked: a rule of the verifier's Revoker takes the token back
	// (401); the error is a *RevokedError naming the rule.
	ErrRevoked = errors.New("bearer: token revoked")
	// ErrRevocationsUnavailable: a revocation source configured to fail
	// closed cannot be read (503), so no token is accepted.
	ErrRevocationsUnavailable = errors.New("bearer: revocation list unavailable")

	// ErrReplayStoreUnavailable: DPoP proofs cannot be checked for replay
	// now (503), so none is accepted.
	ErrReplayStoreUnavailable = errors.New("bearer: DPoP replay store unavailable")
	ErrInsufficientScope      = errors.New("bearer: insufficient scope")
	ErrIssuerUnavailable      = errors.New("bearer: issuer unavailable")
)

// Error is the refusal of a request. It carries what an HTTP answer needs
// (the RFC 6750 code, a description for the caller, the scope a route
// requires) and wraps one of the sentinel errors for the application.
//
// The description tells an operator what was wrong; it never repeats the
// token or any value taken from it.
type Error struct {
	Code        Code
	Description string
	// Scope lists the scopes that would have granted access
	// (insufficient_scope only).
	Scope []string
	// RetryAfter is set when the issuer could not be reached: the request
	// may succeed later and deserves 503, not 401.
	RetryAfter time.Duration
	// Err is the sentinel this error is an instance of.
	Err error
	// Scheme is "DPoP" when the refusal concerns a DPoP request (or DPoP
	// is what the API requires), so that the DPoP challenge carries the
	// error; "" for Bearer.
	Scheme string
	// DPoPNonce is the nonce to retry with (use_dpop_nonce only).
	DPoPNonce string
}

// Error is the sentinel's message and the description. It is safe on an
// Error built by hand without Err.
func (e *Error) Error() string {
	msg := "bearer: request refused"
	if err := e.Unwrap(); err != nil {
		msg = err.Error()
	}
	if e.Description == "" {
		return msg
	}
	return msg + ": " + e.Description
}

// Unwrap returns Err; for an Error built without one, the sentinel of its
// Code (ErrInsufficientScope, ErrInvalidRequest), so that errors.Is works
// on hand-built refusals too.
func (e *Error) Unwrap() error {
	if e.Err != nil {
		return e.Err
	}
	switch e.Code {
	case CodeInsufficientScope:
		return ErrInsufficientScope
	case CodeInvalidRequest:
		return ErrInvalidRequest
	}
	return nil
}

// StatusCode is the HTTP status for the error: 400, 401, 403 or 503.
func (e *Error) StatusCode() int {
	switch {
	case e.unjudged():
		return http.StatusServiceUnavailable
	case e.Code == CodeInvalidRequest:
		return http.StatusBadRequest
	case e.Code == CodeInsufficientScope:
		return http.StatusForbidden
	default:
		return http.StatusUnauthorized
	}
}

// Challenge renders the WWW-Authenticate value of RFC 6750 §3, or "" where
// no challenge belongs (the issuer is unavailable: the token was not judged).
func (e *Error) Challenge(realm string) string { return e.challenge(realm, "") }

// challenge is Challenge with RFC 9728's resource_metadata, when set.
// unjudged reports a request that was not judged: the issuer (or the DPoP
// replay store, or a revocation source that fails closed) could not be
// reached.
func (e *Error) unjudged() bool {
	return e.Err != nil && (errors.Is(e.Err, ErrIssuerUnavailable) || errors.Is(e.Err, ErrReplayStoreUnavailable) || errors.Is(e.Err, ErrRevocationsUnavailable))
}

func (e *Error) challenge(realm, metadata string) string {
	if e.unjudged() {
		return ""
	}
	return e.scheme("Bearer", realm, metadata, "", true)
}

// scheme renders one challenge; withError puts the error's code,
// description and scope in it (the scheme the request used), and algs is
// DPoP's list of algorithms.
func (e *Error) scheme(name, realm, metadata, algs string, withError bool) string {
	var b strings.Builder
	b.WriteString(name)
	sep := " "
	param := func(name, value string) {
		if value == "" {
			return
		}
		b.WriteString(sep)
		b.WriteString(name)
		b.WriteString(`="`)
		b.WriteString(quotable(value))
		b.WriteString(`"`)
		sep = ", "
	}
	param("realm", realm)
	if withError {
		param("error", string(e.Code))
		if e.Code != "" {
			param("error_description", e.Description)
		}
		param("scope", strings.Join(e.Scope, " "))
	}
	param("algs", algs)
	param("resource_metadata", metadata)
	return b.String()
}

// challenges renders the WWW-Authenticate values for an API that accepts
// Bearer, DPoP or both (d nil: Bearer only): one per scheme accepted, the
// request's own scheme first and carrying the error (RFC 9449 §7.1).
func (e *Error) challenges(realm, metadata string, d *dpopCheck) []string {
	if e.unjudged() {
		return nil
	}
	if !d.accepts() {
		return []string{e.scheme("Bearer", realm, metadata, "", true)}
	}
	dpopFirst := e.Scheme == "DPoP"
	dp := e.scheme("DPoP", "", metadata, d.algNames, dpopFirst)
	if d.mode == DPoPRequired {
		return []string{e.scheme("DPoP", "", metadata, d.algNames, true)}
	}
	br := e.scheme("Bearer", realm, metadata, "", !dpopFirst)
	if dpopFirst {
		return []string{dp, br}
	}
	return []string{br, dp}
}

// quotable keeps only the characters RFC 6750 §3 allows inside
// error_description and scope: printable ASCII without '"' and '\'.
func quotable(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '?'
		}
		return r
	}, s)
}

// NewInsufficientScope is the refusal of a Policy of your own: 403
// insufficient_scope with description, naming the scopes that would grant
// access (if any) in the challenge. It wraps ErrInsufficientScope.
func NewInsufficientScope(description string, scopes ...string) *Error {
	return &Error{Code: CodeInsufficientScope, Err: ErrInsufficientScope, Description: description, Scope: scopes}
}

func newError(code Code, sentinel error, format string, args ...any) *Error {
	return &Error{Code: code, Err: sentinel, Description: fmt.Sprintf(format, args...)}
}

func tokenError(sentinel error, format string, args ...any) *Error {
	return newError(CodeInvalidToken, sentinel, format, args...)
}

// AsError returns err as an *Error. An error that is not one (a cancelled
// context, a bug in a custom Policy) is treated as the issuer being
// unavailable: the request was not judged, so it must not look refused.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Err: fmt.Errorf("%w: %w", ErrIssuerUnavailable, err), Description: "the token could not be checked", RetryAfter: time.Second}
}
