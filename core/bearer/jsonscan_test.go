package bearer

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzParsePayload holds the claim scanner to encoding/json: it must never
// panic, must refuse what encoding/json refuses, and must read the same
// values from what it accepts.
func FuzzParsePayload(f *testing.F) {
	for _, seed := range []string{
		`{"iss":"https://i","aud":["a","b"],"exp":1700000000,"scope":"a b","realm_access":{"roles":["x"]}}`,
		`{"iss":"h\u0074tps://i","sub":"s\"q","aud":"a","scp":["r"],"resource_access":{"c":{"roles":["r"]}},"x":{"y":[1,{"z":"]"}]}}`,
		`{}`, `{"ISS":"upper case is another claim"}`, ` { "iss" : "a" , "exp" : 1.5e9 } `, `[]`, `{"iss":1}`, `{"exp":"1"}`, `{"aud":[1]}`, `{"a":"\\"}`, `{`, `"x"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parsePayload(b)
		// A map, not a struct: claim names are case-sensitive, and
		// encoding/json matches struct fields without regard to case.
		var ref map[string]json.RawMessage
		refErr := json.Unmarshal(b, &ref)
		if refErr != nil {
			if err == nil {
				t.Fatalf("accepted what encoding/json refuses: %q (%v)", b, refErr)
			}
			return
		}
		if err != nil {
			return // type checks are stricter than a generic decode
		}
		if s, ok := refString(ref["iss"]); ok && s != p.Iss {
			t.Fatalf("iss %q; encoding/json reads %q", p.Iss, s)
		}
		if s, ok := refString(ref["sub"]); ok && s != p.Sub {
			t.Fatalf("sub %q; encoding/json reads %q", p.Sub, s)
		}
		if s, ok := refString(ref["aud"]); ok && !slices.Equal(p.Aud, []string{s}) {
			t.Fatalf("aud %q; encoding/json reads %q", p.Aud, s)
		}
	})
}

func refString(raw json.RawMessage) (string, bool) {
	var s string
	return s, raw != nil && json.Unmarshal(raw, &s) == nil
}
