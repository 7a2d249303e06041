package ssf

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Code is a Security Event Token error code (RFC 8935 §2.4), the err of a
// refused push.
type Code string

// The error codes of RFC 8935 §2.4.
const (
	// InvalidRequest: the body cannot be parsed as a SET, or an event in
	// it does not conform to its definition.
	InvalidRequest Code = "invalid_request"
	// InvalidKey: a key used to sign the SET is unacceptable (unknown,
	// of an algorithm not accepted, not verifying the signature).
	InvalidKey Code = "invalid_key"
	// InvalidIssuer: the SET's issuer is not the transmitter.
	InvalidIssuer Code = "invalid_issuer"
	// InvalidAudience: the SET is not addressed to this receiver.
	InvalidAudience Code = "invalid_audience"
	// AuthenticationFailed: the push did not authenticate the
	// transmitter (its Authorization header).
	AuthenticationFailed Code = "authentication_failed"
	// AccessDenied: the transmitter may not send this SET: it names
	// tokens of an issuer the transmitter may not revoke for.
	AccessDenied Code = "access_denied"
)

// DeliveryError is the refusal of a push: the HTTP status of the answer
// and, for a 400, its RFC 8935 error code. A 503 (Code empty) means the SET
// was not judged (the transmitter's keys cannot be fetched, the revocation
// store cannot take the revocations): the transmitter should deliver it
// again after RetryAfter.
type DeliveryError struct {
	Status      int
	Code        Code
	Description string
	RetryAfter  time.Duration
	// Err is the cause, when there is one: a *bearer.Error for a SET that
	// failed verification.
	Err error
}

func (e *DeliveryError) Error() string {
	msg := fmt.Sprintf("ssf: %d", e.Status)
	if e.Code != "" {
		msg += " " + string(e.Code)
	}
	msg += ": " + e.Description
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *DeliveryError) Unwrap() error { return e.Err }

func invalid(format string, args ...any) *DeliveryError {
	return &DeliveryError{Status: http.StatusBadRequest, Code: InvalidRequest, Description: fmt.Sprintf(format, args...)}
}

// verificationError is the answer to a SET that failed verification.
func verificationError(err error) *DeliveryError {
	e := bearer.AsError(err)
	de := &DeliveryError{Status: http.StatusBadRequest, Description: e.Description, Err: err}
	switch {
	case e.StatusCode() == http.StatusServiceUnavailable:
		de.Status, de.RetryAfter = http.StatusServiceUnavailable, max(e.RetryAfter, time.Second)
		de.Description = "the transmitter's keys cannot be fetched now"
	case errors.Is(err, bearer.ErrIssuer):
		de.Code = InvalidIssuer
	case errors.Is(err, bearer.ErrAudience):
		de.Code = InvalidAudience
	case errors.Is(err, bearer.ErrUnknownKey), errors.Is(err, bearer.ErrSignature), errors.Is(err, bearer.ErrAlgorithm):
		de.Code = InvalidKey
	default: // malformed, not a SET (typ), expired, not yet valid
		de.Code = InvalidRequest
	}
	return de
}
