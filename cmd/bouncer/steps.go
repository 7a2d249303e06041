package main

import (
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// step is one check of the verification, as the command reports it.
type step struct {
	Name    string `json:"name"`
	OK      bool   `json:"ok"`
	Checked bool   `json:"checked"` // false: bouncer stopped before it
	Detail  string `json:"detail"`
	Hint    string `json:"hint,omitempty"`
}

// stepNames are the checks in the order bouncer makes them (see
// Verifier.verifyParsed): what the claims say the token is, then the
// header, the issuer before any key is fetched, the key and its signature,
// the times and audience, and last the route's policies. A refusal at one
// step means the later ones were never reached, and the report says so
// rather than guess.
var stepNames = []string{
	"format", "kind", "algorithm", "type", "issuer",
	"discovery", "keys", "key", "signature",
	"times", "audience", "revocation", "scopes",
}

// Some reasons arise at more than one step; bouncer's description tells
// which. Should one of these change, the ✗ would move to the reason's
// other step; the verdict, which is bouncer's, would not.
const (
	algorithmNotAccepted = "the token's signing algorithm is not accepted"
	typeHeaderRefused    = "the token's type is not an access token type"
	noExpClaim           = "the token has no exp claim"
)

// failedStep is the step at which bouncer refused, or "" if it accepted.
func (x *explanation) failedStep() string {
	if x.err == nil {
		return ""
	}
	desc := x.err.Description
	switch bearer.Reason(x.err) {
	case "malformed":
		if desc == noExpClaim {
			return "times"
		}
	case "type":
		if desc == typeHeaderRefused {
			return "type"
		}
		return "kind"
	case "sender_constrained":
		return "kind"
	case "algorithm":
		if desc == algorithmNotAccepted {
			return "algorithm"
		}
		return "key"
	case "issuer":
		return "issuer"
	case "issuer_unavailable":
		if f := x.fetchError(); f != "" && !strings.HasPrefix(f, "discovery") {
			return "keys"
		}
		return "discovery"
	case "unknown_key":
		return "key"
	case "signature":
		return "signature"
	case "expired", "not_yet_valid", "lifetime":
		return "times"
	case "audience":
		return "audience"
	case "revoked", "revocations_unavailable":
		return "revocation"
	case "insufficient_scope":
		return "scopes"
	}
	return "format"
}

// steps reports every step: passed up to the failing one, which carries
// the hint, and not checked after it.
func (x *explanation) steps() []step {
	failed := x.failedStep()
	reached := true
	out := make([]step, 0, len(stepNames))
	for _, name := range stepNames {
		s := step{Name: name, Checked: reached, Detail: "not checked"}
		if reached {
			s.Detail = x.detail(name, name == failed)
			s.OK = name != failed
		}
		if name == failed {
			s.Hint = x.hint()
			reached = false
		}
		out = append(out, s)
	}
	return out
}
