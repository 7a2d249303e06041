package ssf

import (
	"errors"
	"fmt"
	"math"
	"time"

	josejson "github.com/go-jose/go-jose/v4/json"
)

// securityEvent is what a verified SET says that the receiver reads.
type securityEvent struct {
	JTI    string
	Events []event
}

// event is one member of a SET's events claim.
type event struct {
	Type string
	// Subject is the SET's sub_id, or else the event's own subject
	// member (where CAEP and RISC events put it before the Shared
	// Signals Framework moved it to sub_id); nil when there is neither.
	Subject *subjectID
	// At is when the event happened: its event_timestamp (CAEP), else
	// the SET's toe (RFC 8417), else its iat.
	At time.Time
}

// Bounds on what a SET may hold: a transmitter sends one event, with one
// subject, in a few hundred bytes.
const (
	maxEvents    = 16
	maxJTI       = 256
	maxAliases   = 16
	maxIDMembers = 16
)

var errNotObject = errors.New("not a JSON object")

// parseSET reads the claims of a verified SET (payload, whose one reading
// package bearer has checked; iat is given as issuedAt). It requires a jti
// and an events object of at most maxEvents events, each a JSON object,
// and reads the subject identifiers (RFC 9493 and the Shared Signals
// Framework's formats) strictly, whatever their format.
func parseSET(payload []byte, issuedAt time.Time) (*securityEvent, error) {
	var top map[string]josejson.RawMessage
	if err := josejson.Unmarshal(payload, &top); err != nil {
		return nil, fmt.Errorf("the claims are not a JSON object: %w", err)
	}
	s := &securityEvent{}
	if err := readString(top["jti"], &s.JTI); err != nil || s.JTI == "" {
		return nil, errors.New("the SET has no jti")
	}
	if len(s.JTI) > maxJTI {
		return nil, fmt.Errorf("the SET's jti is longer than %d bytes", maxJTI)
	}
	at := issuedAt
	if raw, ok := top["toe"]; ok {
		toe, err := readTime(raw)
		if err != nil {
			return nil, fmt.Errorf("toe: %w", err)
		}
		at = toe
	}
	var subject *subjectID
	if raw, ok := top["sub_id"]; ok {
		var err error
		if subject, err = parseSubject(raw, true); err != nil {
			return nil, fmt.Errorf("sub_id: %w", err)
		}
	}
	rawEvents, ok := top["events"]
	if !ok {
		return nil, errors.New("the SET has no events claim")
	}
	var events map[string]josejson.RawMessage
	if !isObject(rawEvents) || josejson.Unmarshal(rawEvents, &events) != nil {
		return nil, errors.New("the events claim is not a JSON object")
	}
	switch {
	case len(events) == 0:
		return nil, errors.New("the events claim holds no event")
	case len(events) > maxEvents:
		return nil, fmt.Errorf("the events claim holds more than %d events", maxEvents)
	}
	for typ, raw := range events {
		e, err := parseEvent(typ, raw, subject, at)
		if err != nil {
			return nil, fmt.Errorf("event %s: %w", typ, err)
		}
		s.Events = append(s.Events, e)
	}
	return s, nil
}

// parseEvent reads one event object.
func parseEvent(typ string, raw josejson.RawMessage, subject *subjectID, at time.Time) (event, error) {
	e := event{Type: typ, Subject: subject, At: at}
	if typ == "" {
		return e, errors.New("empty event type")
	}
	if !isObject(raw) {
		return e, errNotObject
	}
	var members map[string]josejson.RawMessage
	if err := josejson.Unmarshal(raw, &members); err != nil {
		return e, errNotObject
	}
	if v, ok := members["event_timestamp"]; ok {
		t, err := readTime(v)
		if err != nil {
			return e, fmt.Errorf("event_timestamp: %w", err)
		}
		e.At = t
	}
	if v, ok := members["subject"]; ok && e.Subject == nil {
		s, err := parseSubject(v, true)
		if err != nil {
			return e, fmt.Errorf("subject: %w", err)
		}
		e.Subject = s
	}
	return e, nil
}

// subjectID is a subject identifier: RFC 9493's formats, the Shared
// Signals Framework's jwt_id and complex, or any other format, kept by its
// name only.
type subjectID struct {
	Format string
	ID     string // opaque
	Iss    string // iss_sub, jwt_id
	Sub    string // iss_sub
	JTI    string // jwt_id
	// Members are a complex subject's (user, application, session,
	// tenant…), each a simple identifier.
	Members map[string]*subjectID
	// Aliases are an aliases subject's identifiers, each simple.
	Aliases []*subjectID
}

// parseSubject reads a subject identifier; nesting is allowed only one
// level, from a complex or aliases identifier to simple ones.
func parseSubject(raw josejson.RawMessage, top bool) (*subjectID, error) {
	if !isObject(raw) {
		return nil, errNotObject
	}
	var members map[string]josejson.RawMessage
	if err := josejson.Unmarshal(raw, &members); err != nil {
		return nil, errNotObject
	}
	s := &subjectID{}
	if err := readString(members["format"], &s.Format); err != nil || s.Format == "" {
		return nil, errors.New("no format")
	}
	need := func(name string, dst *string) error {
		if err := readString(members[name], dst); err != nil || *dst == "" {
			return fmt.Errorf("format %s without %s", s.Format, name)
		}
		return nil
	}
	switch s.Format {
	case "opaque":
		return s, need("id", &s.ID)
	case "iss_sub":
		if err := need("iss", &s.Iss); err != nil {
			return nil, err
		}
		return s, need("sub", &s.Sub)
	case "jwt_id":
		if err := need("iss", &s.Iss); err != nil {
			return nil, err
		}
		return s, need("jti", &s.JTI)
	case "complex", "aliases":
		if !top {
			return nil, fmt.Errorf("a %s identifier inside another", s.Format)
		}
	default:
		return s, nil // a format this receiver does not act on
	}
	if s.Format == "aliases" {
		var ids []josejson.RawMessage
		if err := josejson.Unmarshal(members["identifiers"], &ids); err != nil || len(ids) == 0 {
			return nil, errors.New("aliases without identifiers")
		}
		if len(ids) > maxAliases {
			return nil, fmt.Errorf("more than %d aliases", maxAliases)
		}
		for _, id := range ids {
			a, err := parseSubject(id, false)
			if err != nil {
				return nil, fmt.Errorf("alias: %w", err)
			}
			s.Aliases = append(s.Aliases, a)
		}
		return s, nil
	}
	s.Members = map[string]*subjectID{}
	for name, v := range members {
		if name == "format" {
			continue
		}
		if len(s.Members) == maxIDMembers {
			return nil, fmt.Errorf("more than %d members", maxIDMembers)
		}
		m, err := parseSubject(v, false)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		s.Members[name] = m
	}
	if len(s.Members) == 0 {
		return nil, errors.New("a complex identifier without members")
	}
	return s, nil
}

// readString reads a JSON string; raw nil (absent) is an error.
func readString(raw josejson.RawMessage, dst *string) error {
	if len(raw) == 0 || raw[0] != '"' {
		return errors.New("not a string")
	}
	return josejson.Unmarshal(raw, dst)
}

// readTime reads a NumericDate: a JSON number of seconds.
func readTime(raw josejson.RawMessage) (time.Time, error) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return time.Time{}, errors.New("not a number")
	}
	var f float64
	if err := josejson.Unmarshal(raw, &f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e15 {
		return time.Time{}, errors.New("not a NumericDate")
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), nil
}

func isObject(raw josejson.RawMessage) bool { return len(raw) > 0 && raw[0] == '{' }
