package bearer

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// FuzzParsePayload holds the claims reader to encoding/json. The reference
// below decides, with encoding/json and a few lines of its own, whether a
// payload has one reading (valid JSON, valid UTF-8, no lone surrogates, no
// repeated member anywhere, bounded depth) and, if so, what each claim
// bouncer reads must be. parsePayload must accept exactly those payloads
// whose claims also have the right types, and read the same values.
func FuzzParsePayload(f *testing.F) {
	for _, seed := range payloadSeeds {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := &payload{}
		err := parsePayload(b, got)
		if err == nil {
			// Cnf is appended in document order, the reference's in map
			// order.
			slices.Sort(got.Cnf)
		}
		if !oneReading(b) {
			if err == nil {
				t.Fatalf("accepted a payload with more than one reading: %q", b)
			}
			return
		}
		want, refErr := referencePayload(b)
		if (err == nil) != (refErr == nil) {
			t.Fatalf("parsePayload err = %v; reference err = %v; payload %q", err, refErr, b)
		}
		if err != nil {
			return
		}
		if !reflect.DeepEqual(normalise(got), normalise(want)) {
			t.Fatalf("read %+v; reference reads %+v; payload %q", got, want, b)
		}
	})
}

var payloadSeeds = []string{
	`{"iss":"https://i","aud":["a","b"],"exp":1700000000,"scope":"a b","realm_access":{"roles":["x"]}}`,
	`{"iss":"h\u0074tps://i","sub":"s\"q","aud":"a","scp":["r"],"resource_access":{"c":{"roles":["r"]}},"x":{"y":[1,{"z":"]"}]}}`,
	`{}`, `{"ISS":"upper case is another claim"}`, ` { "iss" : "a" , "exp" : 1.5e9 } `, `[]`, `{"iss":1}`, `{"exp":"1"}`, `{"aud":[1]}`, `{"a":"\\"}`, `{`, `"x"`,
	`{"aud":"a","aud":null}`, `{"scope":"admin","scope":null}`, `{"\u0061ud":"a","aud":"b"}`, `{"x":{"a":1,"a":2}}`,
	`{"scope":"a\u00a0b"}`, `{"scope":"a\tb"}`, `{"scope":"a  b"}`, `{"scope":["a b"]}`, `{"scope":""}`,
	`{"sub":"\ud800"}`, `{"sub":"\udc00"}`, `{"sub":"\ud83d\ude00"}`, "{\"sub\":\"\xff\"}", `{"sub":"\\ud800"}`,
	`{"typ":"ID","nonce":"n"}`, `{"cnf":{"jkt":"x"}}`, `{"cnf":null}`, `{"exp":-0.5e-3,"nbf":0,"iat":1E+2}`,
	`{"exp":1e400}`, `{"exp":01}`, `{"exp":1.}`, `{"a":tru}`, `{"a":[1,]}`, `{"a":1,}`, `{"a" 1}`,
	strings.Repeat(`{"a":`, 33) + `1` + strings.Repeat(`}`, 33),
	strings.Repeat(`[`, 31) + `]`,
}

// oneReading is the reference's view of whether every reader reads b the
// same way.
func oneReading(b []byte) bool {
	if !json.Valid(b) || !utf8.Valid(b) || refLoneSurrogate(b) {
		return false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(b, &top) != nil {
		return false // not an object
	}
	dup, depth := refStructure(b)
	return !dup && depth <= maxJSONDepth
}

// refStructure walks b with encoding/json's tokenizer, reporting a member
// name repeated in any object and the deepest nesting.
func refStructure(b []byte) (dup bool, depth int) {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		names map[string]bool
		key   bool // the next token of this object is a member name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return dup, depth
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.names != nil && top.key {
			if d, ok := tok.(json.Delim); ok && d == '}' {
				stack = stack[:len(stack)-1]
				continue
			}
			name := tok.(string)
			if top.names[name] {
				dup = true
			}
			top.names[name] = true
			top.key = false
			continue
		}
		if top != nil && top.names != nil {
			top.key = true // after this value comes a name or '}'
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{names: map[string]bool{}, key: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'), json.Delim('}'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].names != nil {
				stack[len(stack)-1].key = true
			}
			continue
		}
		depth = max(depth, len(stack))
	}
}

// refLoneSurrogate reports a \u escape of a surrogate that is not a
// high-low pair. b is valid JSON, so every backslash starts an escape.
func refLoneSurrogate(b []byte) bool {
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' {
			continue
		}
		if b[i+1] != 'u' {
			i++
			continue
		}
		r, _ := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
		if !utf16.IsSurrogate(rune(r)) {
			i += 5
			continue
		}
		if r >= 0xDC00 || i+12 > len(b) || string(b[i+6:i+8]) != `\u` {
			return true
		}
		lo, err := strconv.ParseUint(string(b[i+8:i+12]), 16, 32)
		if err != nil || lo < 0xDC00 || lo > 0xDFFF {
			return true
		}
		i += 11
	}
	return false
}

var errRef = errors.New("reference: claim of the wrong type")

// referencePayload reads the claims bouncer interprets with encoding/json
// and the plain rules each claim's documentation states.
func referencePayload(b []byte) (*payload, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil { // null: encoding/json leaves the map nil, but a payload is an object
		return nil, errRef
	}
	p := &payload{}
	_, p.IssSet = m["iss"]
	var errs []error
	str := func(name string, dst *string) {
		if raw, ok := m[name]; ok && string(raw) != "null" {
			errs = append(errs, json.Unmarshal(raw, dst))
		}
	}
	list := func(raw json.RawMessage) ([]string, error) {
		var v any
		_ = json.Unmarshal(raw, &v)
		switch v := v.(type) {
		case nil:
			return nil, nil
		case string:
			return []string{v}, nil
		case []any:
			out := []string{}
			for _, e := range v {
				s, ok := e.(string)
				if !ok {
					return nil, errRef
				}
				out = append(out, s)
			}
			return out, nil
		}
		return nil, errRef
	}
	date := func(name string, dst *numericDate) {
		raw, ok := m[name]
		if !ok {
			return
		}
		var f float64
		if raw[0] == '"' || json.Unmarshal(raw, &f) != nil || string(raw) == "null" || math.Abs(f) > 1e15 {
			errs = append(errs, errRef)
			return
		}
		sec, frac := math.Modf(f)
		dst.Time, dst.Set = time.Unix(int64(sec), int64(frac*1e9)), true
	}
	scopes := func(name string, dst *spaceList) {
		raw, ok := m[name]
		if !ok {
			return
		}
		var toks []string
		var s string
		if json.Unmarshal(raw, &s) == nil && raw[0] == '"' {
			if s != "" {
				toks = strings.Split(s, " ")
			}
		} else {
			var err error
			if toks, err = list(raw); err != nil {
				errs = append(errs, err)
				return
			}
		}
		for _, tok := range toks {
			if tok == "" || strings.ContainsFunc(tok, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) {
				errs = append(errs, errRef)
				return
			}
		}
		*dst = toks
	}
	roles := func(raw json.RawMessage) ([]string, error) {
		var obj map[string]json.RawMessage
		if string(raw) == "null" {
			return nil, nil
		}
		if json.Unmarshal(raw, &obj) != nil || raw[0] != '{' {
			return nil, errRef
		}
		if r, ok := obj["roles"]; ok {
			return list(r)
		}
		return nil, nil
	}

	str("iss", &p.Iss)
	str("sub", &p.Sub)
	str("jti", &p.Jti)
	str("client_id", &p.ClientID)
	str("azp", &p.Azp)
	str("appid", &p.AppID)
	str("tid", &p.Tid)
	for name, dst := range map[string]*stringList{"aud": &p.Aud, "roles": &p.Roles} {
		if raw, ok := m[name]; ok {
			l, err := list(raw)
			*dst = l
			errs = append(errs, err)
		}
	}
	date("exp", &p.Exp)
	date("nbf", &p.Nbf)
	date("iat", &p.Iat)
	scopes("scope", &p.Scope)
	scopes("scp", &p.Scp)
	if raw, ok := m["realm_access"]; ok {
		r, err := roles(raw)
		p.RealmRoles = r
		errs = append(errs, err)
	}
	if raw, ok := m["resource_access"]; ok && string(raw) != "null" {
		var clients map[string]json.RawMessage
		if json.Unmarshal(raw, &clients) != nil || raw[0] != '{' {
			errs = append(errs, errRef)
		} else {
			p.ResourceAccess = map[string][]string{}
			for c, r := range clients {
				l, err := roles(r)
				p.ResourceAccess[c] = l
				errs = append(errs, err)
			}
		}
	}
	_ = json.Unmarshal(m["typ"], &p.Typ)
	if raw, ok := m["cnf"]; ok && string(raw) != "null" {
		var cnf map[string]json.RawMessage
		if json.Unmarshal(raw, &cnf) != nil || raw[0] != '{' {
			errs = append(errs, errRef)
		}
		for name, v := range cnf {
			p.Cnf = append(p.Cnf, name)
			var dst *string
			switch name {
			case "jkt":
				dst = &p.CnfJKT
			case "x5t#S256":
				dst = &p.CnfX5T
			default:
				continue
			}
			if v[0] != '"' || json.Unmarshal(v, dst) != nil {
				errs = append(errs, errRef)
			}
		}
	}
	for _, name := range []string{"nonce", "at_hash", "c_hash", "s_hash"} {
		if raw, ok := m[name]; ok && string(raw) != "null" {
			p.IDTokenMark = "present"
		}
	}
	return p, errors.Join(errs...)
}

// normalise makes two readings comparable: nil and empty lists are alike,
// member order is not kept by the reference's maps, and the reference only
// says whether an ID-token claim is present.
func normalise(p *payload) payload {
	n := *p
	lists := []*[]string{(*[]string)(&n.Aud), (*[]string)(&n.Roles), (*[]string)(&n.RealmRoles), (*[]string)(&n.Scope), (*[]string)(&n.Scp)}
	for _, l := range lists {
		if len(*l) == 0 {
			*l = nil
		}
	}
	if len(n.ResourceAccess) > 0 {
		ra := map[string][]string{}
		for c, r := range n.ResourceAccess {
			if len(r) == 0 {
				r = nil
			}
			ra[c] = r
		}
		n.ResourceAccess = ra
	}
	if n.IDTokenMark != "" {
		n.IDTokenMark = "present"
	}
	if len(n.Cnf) == 0 {
		n.Cnf = nil
	} else {
		n.Cnf = append([]string(nil), n.Cnf...)
		slices.Sort(n.Cnf)
	}
	return n
}
