package bearerredis

import "testing"

// FuzzDecodeRule holds the reader of stored rules to the writer: an entry
// is read only when it is exactly what encodeRule writes for the rule read.
func FuzzDecodeRule(f *testing.F) {
	for _, s := range []string{
		`{"k":"client","i":"https://sso.example.com/realms/services","v":"billing","b":1764650000000000000,"a":1764650000000000000,"e":1764740000000000000,"s":"cli","r":"secret leaked"}`,
		`{"k":"jti","i":"https://iss","v":"jti-1","a":1,"e":2}`, `{"k":"token","v":"00","a":1,"e":2}`,
		`{"k":"nope","v":"x"}`, `{"k":"jti","v":"x","extra":1}`, `{"k":"jti","v":"x"} {}`, `[]`, `null`, ``,
		`{"k":"jti","v":"x","v":"y"}`, `{"K":"jti","v":"x"}`, `{"k":"jti","v":"\u0078"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, entry string) {
		r, err := decodeRule(entry)
		if err != nil {
			return
		}
		again, err := encodeRule(r)
		if err != nil || again != entry {
			t.Fatalf("read %q as %+v, which is written %q (%v)", entry, r, again, err)
		}
	})
}
