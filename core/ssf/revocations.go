package ssf

import (
	"fmt"
	"slices"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// The event types that take tokens back, and the one the framework uses
// to verify a stream.
const (
	// SessionRevoked (CAEP): the subject's session was revoked, e.g. an
	// administrator logged the user out.
	SessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
	// CredentialChange (CAEP): a credential of the subject was created,
	// changed, revoked or deleted.
	CredentialChange = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
	// AccountDisabled (RISC): the subject's account was disabled.
	AccountDisabled = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
	// CredentialCompromise (RISC): a credential of the subject leaked.
	CredentialCompromise = "https://schemas.openid.net/secevent/risc/event-type/credential-compromise"
	// Verification (SSF): the transmitter checks that the stream works.
	Verification = "https://schemas.openid.net/secevent/ssf/event-type/verification"
)

// revoking are the event types that take back the tokens of their subject
// issued before the event.
var revoking = []string{SessionRevoked, CredentialChange, AccountDisabled, CredentialCompromise}

// target is whose tokens an event's subject names.
type target struct {
	kind   bearer.RevocationKind // RevokeSubjectBefore, RevokeClientBefore or RevokeTokenID
	issuer string
	value  string
}

// targetOf finds in a subject identifier what tokens it names: a subject
// (iss_sub; opaque, of the default issuer), a client (the application of
// a complex identifier), or one token (jwt_id). A complex identifier
// naming a user is about the user, even if it also names an application:
// the user's tokens are all taken back, a safe superset of that one
// session's. The reason is said when the identifier names none of them.
func targetOf(s *subjectID, defaultIssuer string) (target, string) {
	switch s.Format {
	case "iss_sub":
		return target{bearer.RevokeSubjectBefore, s.Iss, s.Sub}, ""
	case "opaque":
		return target{bearer.RevokeSubjectBefore, defaultIssuer, s.ID}, ""
	case "jwt_id":
		return target{bearer.RevokeTokenID, s.Iss, s.JTI}, ""
	case "aliases":
		for _, a := range s.Aliases {
			if t, why := targetOf(a, defaultIssuer); why == "" {
				return t, ""
			}
		}
		return target{}, "none of the aliases is an iss_sub, opaque or jwt_id identifier"
	case "complex":
		if u := s.Members["user"]; u != nil {
			return targetOf(u, defaultIssuer)
		}
		if app := s.Members["application"]; app != nil {
			switch app.Format {
			case "opaque":
				return target{bearer.RevokeClientBefore, defaultIssuer, app.ID}, ""
			case "iss_sub":
				return target{bearer.RevokeClientBefore, app.Iss, app.Sub}, ""
			}
			return target{}, "the application is named by a " + app.Format + " identifier, not opaque or iss_sub"
		}
		return target{}, "the complex identifier names neither a user nor an application"
	}
	return target{}, "a " + s.Format + " identifier cannot name a token's subject or client"
}

// outcome is what a SET calls for.
type outcome struct {
	rules []bearer.Revocation
	notes []string // why events were accepted without a revocation
}

// rulesFor turns a SET's events into revocations. An event naming tokens of
// an issuer this transmitter may not revoke for refuses the whole SET.
func (r *Receiver) rulesFor(s *securityEvent) (outcome, *DeliveryError) {
	var out outcome
	for _, e := range s.Events {
		if !slices.Contains(revoking, e.Type) {
			out.notes = append(out.notes, "event type "+e.Type+" calls for no revocation")
			continue
		}
		if e.Subject == nil {
			out.notes = append(out.notes, "event "+e.Type+" names no subject")
			continue
		}
		t, why := targetOf(e.Subject, r.issuers[0])
		if why != "" {
			out.notes = append(out.notes, "event "+e.Type+": "+why)
			continue
		}
		if !slices.Contains(r.issuers, t.issuer) {
			return outcome{}, &DeliveryError{Status: 400, Code: AccessDenied, Description: "the SET names tokens of an issuer this transmitter may not revoke for"}
		}
		rule := bearer.Revocation{Kind: t.kind, Issuer: t.issuer, Value: t.value, Source: "ssf", Reason: e.Type}
		if t.kind != bearer.RevokeTokenID {
			// A NumericDate counts whole seconds: a token issued in the
			// second of the event may have been issued after it, and is
			// taken back too. The Revoker never lets Before pass now.
			rule.Before = e.At.Add(time.Second)
		}
		out.rules = append(out.rules, rule)
	}
	return out, nil
}

func (o outcome) String() string {
	if len(o.rules) == 0 {
		return "no revocation"
	}
	return fmt.Sprintf("%d revocations", len(o.rules))
}
