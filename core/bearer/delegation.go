package bearer

import (
	"errors"
	"fmt"
	"slices"
)

// Delegation (RFC 8693 token exchange): a service that calls another on
// behalf of a subject exchanges the token it received for one meant for
// the next service, and an issuer that records the exchange names the
// acting party in the new token's act claim. Each further exchange nests
// the previous act inside the new one, so the outermost act is the current
// actor and the most deeply nested the first (RFC 8693 §4.1):
//
//	{"sub": "user-42", "act": {"sub": "orders", "act": {"sub": "gateway"}}}
//
// is user-42's token, exchanged by gateway and then by orders, which is
// calling now. For access decisions only the token's own claims and the
// current actor count; prior actors are history (§4.1). may_act names who
// may act for the token's subject (§4.4); it is what an issuer consults
// before an exchange, and is readable here for audits.
//
// The chain is read once, when the token is verified: an act that is not
// a JSON object, one that names no actor (neither sub nor client_id), a
// member of the wrong type, a member repeated in one object (as everywhere
// in a token), or a chain of more than MaxDelegationChain actors makes the
// token malformed (401), so that no policy ever reads a chain two ways.

// MaxDelegationChain is the most actors a token's act claim may nest; a
// longer chain is refused as malformed. Real exchanges nest two or three.
const MaxDelegationChain = 10

// Actor is one party of a token's delegation chain: an act object, or
// may_act, as the token names it.
type Actor struct {
	Subject  string // sub
	ClientID string // client_id
	Issuer   string // iss, when the actor is vouched for by another issuer than the token's
}

// ID is the identifier that policies match an actor by: its client_id
// when it has one, else its sub. Issuers name an acting service one way or
// the other: RFC 8693's examples and Keycloak's service accounts use sub,
// some issuers add client_id.
func (a Actor) ID() string {
	if a.ClientID != "" {
		return a.ClientID
	}
	return a.Subject
}

// Actor returns the token's delegation chain, the current actor first and
// the first actor last, or nil for a token that names no actor: a direct
// call, or an exchange the issuer did not record (see README, Delegation).
// The slice is the caller's own.
func (c *Claims) Actor() []Actor { return slices.Clone(c.actors) }

// MayAct returns the token's may_act claim: the party that may act for the
// token's subject. ok is false when the token has none.
func (c *Claims) MayAct() (a Actor, ok bool) {
	v, found := c.value("may_act")
	if !found {
		return Actor{}, false
	}
	a, _, err := readActor(v) // validated when the token was verified
	return a, err == nil
}

var (
	errActorNotObject = errors.New("not a JSON object")
	errActorNobody    = errors.New("names no actor (neither sub nor client_id)")
	errActorChain     = errors.New("nests more actors than bouncer accepts")
)

// readActors reads an act claim into its chain, the current actor first.
func readActors(v []byte) ([]Actor, error) {
	var chain []Actor
	for v != nil {
		if len(chain) == MaxDelegationChain {
			return nil, errActorChain
		}
		a, next, err := readActor(v)
		if err != nil {
			return nil, err
		}
		chain = append(chain, a)
		v = next
	}
	return chain, nil
}

// readActor reads one act (or may_act) object, and returns the raw value
// of the act nested in it, if any.
func readActor(v []byte) (a Actor, next []byte, err error) {
	if v[0] != '{' {
		return a, nil, errActorNotObject
	}
	err = members(v, func(name, value []byte) error {
		var err error
		switch string(name) {
		case "sub":
			a.Subject, err = actorString(value)
		case "client_id":
			a.ClientID, err = actorString(value)
		case "iss":
			a.Issuer, err = actorString(value)
		case "act":
			next = value
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
	if err == nil && a.Subject == "" && a.ClientID == "" {
		err = errActorNobody
	}
	return a, next, err
}

// actorString reads a member of an actor, which must be a string.
func actorString(v []byte) (string, error) {
	if v[0] != '"' {
		return "", errClaimType
	}
	return unquote(v), nil
}

// checkMayAct validates a may_act claim, which is read on demand.
func checkMayAct(v []byte) error {
	_, _, err := readActor(v)
	return err
}

// RequireActor grants access when the token was obtained by delegation
// and its current actor (the outermost act) is one of actors, matched by
// Actor.ID, and named by the token's own issuer: an actor whose iss is
// another issuer's lives in another namespace, where the same name may be
// someone else, and is refused. A token that names no actor is refused
// too: the route is for calls relayed by these services only. The
// refusal, 403, names none of the actors allowed.
func RequireActor(actors ...string) Policy {
	return scoped{PolicyFunc: func(c *Claims) error {
		if len(c.actors) > 0 && (c.actors[0].Issuer == "" || c.actors[0].Issuer == c.Issuer) && slices.Contains(actors, c.actors[0].ID()) {
			return nil
		}
		if len(c.actors) == 0 {
			return insufficient(nil, "the token names no actor (act); this route takes calls relayed by an allowed service only")
		}
		return insufficient(nil, "the token's current actor is not allowed on this route")
	}}
}

// RequireNoActor grants access only to tokens that name no actor: direct
// calls, not tokens exchanged on someone's behalf. An issuer that records
// no act claim in exchanged tokens (Keycloak's standard token exchange,
// Entra's on-behalf-of flow) makes exchanged tokens look direct: see
// README, Delegation.
func RequireNoActor() Policy {
	return scoped{PolicyFunc: func(c *Claims) error {
		if len(c.actors) == 0 {
			return nil
		}
		return insufficient(nil, "the token was obtained on behalf of its subject (act); this route takes direct calls only")
	}}
}

// MaxDelegation grants access when the token's delegation chain has at
// most n actors: 0 allows direct calls only, 1 one exchange. It bounds the
// chain's length; who the prior actors are never counts (RFC 8693 §4.1).
func MaxDelegation(n int) Policy {
	return scoped{PolicyFunc: func(c *Claims) error {
		if len(c.actors) <= n {
			return nil
		}
		return insufficient(nil, "the token's delegation chain has more actors than this route allows")
	}}
}
