package bearer

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzActorChain holds the act reader to a reference built on
// encoding/json: a value is a chain when it has one reading, every level
// is an object naming an actor by a string sub or client_id, members sub,
// client_id and iss are strings when present, and it nests at most
// MaxDelegationChain actors; the chain read is the reference's, in order.
func FuzzActorChain(f *testing.F) {
	for _, s := range []string{
		`{"sub":"https://service16.example.com","act":{"sub":"https://service77.example.com"}}`,
		`{"sub":"9a1b","client_id":"orders-service","act":{"sub":"0d9c","client_id":"api-gateway"}}`,
		`{"client_id":"orders"}`, `{"sub":"a","iss":"https://other.example","amr":["mfa"]}`,
		`{}`, `null`, `"orders"`, `[{"sub":"a"}]`, `{"sub":1}`, `{"sub":"a","sub":"b"}`,
		`{"sub":"a","act":null}`, `{"sub":"a","act":{"act":{"sub":"b"}}}`, `{"sub":"\u0061"}`,
		`{"sub":"a","act":{"sub":"b","act":{"sub":"c","act":{"sub":"d","act":{"sub":"e","act":{"sub":"f","act":{"sub":"g","act":{"sub":"h","act":{"sub":"i","act":{"sub":"j","act":{"sub":"k"}}}}}}}}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, v []byte) {
		// The reader sees values that the payload reader validated.
		wrapped := append(append([]byte(`{"act":`), v...), '}')
		if len(v) == 0 || members(wrapped, nil) != nil {
			return
		}
		if !oneReading(wrapped) {
			t.Fatalf("the payload reader accepted %q, which has more than one reading", wrapped)
		}
		var top map[string]json.RawMessage
		if err := json.Unmarshal(wrapped, &top); err != nil {
			t.Fatal(err)
		}
		raw := trimJSONSpace(top["act"])
		got, err := readActors(raw)
		want, ok := refActors(raw)
		if (err == nil) != ok {
			t.Fatalf("readActors(%q) = %+v, %v; reference accepts: %v (%+v)", raw, got, err, ok, want)
		}
		if ok && !slices.Equal(got, want) {
			t.Fatalf("readActors(%q) = %+v; reference reads %+v", raw, got, want)
		}
	})
}

// refActors reads a chain with encoding/json.
func refActors(v []byte) ([]Actor, bool) {
	var chain []Actor
	for v != nil {
		if len(chain) == MaxDelegationChain {
			return nil, false
		}
		var obj map[string]json.RawMessage
		if len(v) == 0 || v[0] != '{' || json.Unmarshal(v, &obj) != nil {
			return nil, false
		}
		var a Actor
		for name, dst := range map[string]*string{"sub": &a.Subject, "client_id": &a.ClientID, "iss": &a.Issuer} {
			m, found := obj[name]
			if !found {
				continue
			}
			m = trimJSONSpace(m)
			if m[0] != '"' || json.Unmarshal(m, dst) != nil {
				return nil, false
			}
		}
		if a.Subject == "" && a.ClientID == "" {
			return nil, false
		}
		chain = append(chain, a)
		v = nil
		if next, found := obj["act"]; found {
			v = trimJSONSpace(next)
		}
	}
	return chain, true
}

func trimJSONSpace(b []byte) []byte {
	isSpace := func(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}
