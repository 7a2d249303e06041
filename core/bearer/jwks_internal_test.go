package bearer

import (
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
)

// The Keycloak realm JWKS publishes an RS256 signing key next to an
// RSA-OAEP encryption key; only the first may ever verify a token.
func TestParseKeycloakJWKS(t *testing.T) {
	body, err := os.ReadFile("../../testdata/jwks/keycloak-realm.json")
	if err != nil {
		t.Fatal(err)
	}
	set, skipped, err := parseJWKS(body, 64)
	if err != nil {
		t.Fatal(err)
	}
	if set.len() != 1 || set.byID["lmjNOucrGdRiN7XlpWJbQRIzSeKBS7OD-92xrhch6kw"] == nil {
		t.Fatalf("keys = %v", set.byID)
	}
	if len(skipped) != 1 || skipped[0].kid != "V3rRzf_j1beZjEmQnDeT8r8ZVnXpjW1Gk3635CTCEGk" {
		t.Fatalf("skipped = %v", skipped)
	}
}

func TestParseJWKSSkipsBadEntriesOneByOne(t *testing.T) {
	good := `{"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	entries := []string{
		good,
		`{"kty":"OKP","crv":"Ed448","kid":"ed448","x":"AAAA"}`,
		`{"kty":"XYZ","kid":"unknown"}`,
		`{"kty":"RSA","kid":"short","n":"AQAB","e":"AQAB"}`,
		`{"kty":"oct","kid":"hmac","k":"c2VjcmV0"}`,
		`{"kty":"RSA","kid":"bad-modulus","n":"!!","e":"AQAB"}`,
		`{"kty":"OKP","crv":"Ed25519","kid":"wrong-alg","alg":"RS256","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`,
		`"not an object"`,
	}
	set, skipped, err := parseJWKS([]byte(`{"keys":[`+strings.Join(entries, ",")+`]}`), 64)
	if err != nil {
		t.Fatal(err)
	}
	if set.len() != 1 || set.byID["ed"] == nil {
		t.Fatalf("kept %v", set.byID)
	}
	if len(skipped) != len(entries)-1 {
		t.Fatalf("skipped %d: %v", len(skipped), skipped)
	}
	for _, bad := range []string{`{}`, `[]`, `{"keys":{}}`, `nope`} {
		if _, _, err := parseJWKS([]byte(bad), 64); err == nil && bad != `{}` {
			t.Errorf("parseJWKS(%s) accepted", bad)
		}
	}
}

func TestParseJWKSBoundsKeyCount(t *testing.T) {
	good := `{"kty":"OKP","crv":"Ed25519","kid":"K","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	var entries []string
	for i := range 10 {
		entries = append(entries, strings.Replace(good, `"K"`, `"k`+string(rune('0'+i))+`"`, 1))
	}
	set, _, err := parseJWKS([]byte(`{"keys":[`+strings.Join(entries, ",")+`]}`), 4)
	if err != nil || set.len() != 4 {
		t.Fatalf("kept %d keys, err %v", set.len(), err)
	}
}

func TestSegmentsMustBeCanonicalBase64URL(t *testing.T) {
	for _, s := range []string{"YQ==", "YQ=", "a+b/", "YR"} { // padding, standard alphabet, non-zero trailing bits
		if _, err := decodeSegment(nil, s); err == nil {
			t.Errorf("decodeSegment(%q) accepted", s)
		}
	}
	if b, err := decodeSegment(nil, "YQ"); err != nil || string(b) != "a" {
		t.Fatalf("decodeSegment(YQ) = %q, %v", b, err)
	}
}

// A kid published more than once is left out however many times it
// appears: which of its keys verifies would otherwise depend on order.
func TestParseJWKSDropsEveryCopyOfARepeatedKid(t *testing.T) {
	ed := `{"kty":"OKP","crv":"Ed25519","kid":"K","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	for n := 2; n <= 5; n++ {
		entries := slices.Repeat([]string{ed}, n)
		set, skipped, err := parseJWKS([]byte(`{"keys":[`+strings.Join(entries, ",")+`]}`), 64)
		if err != nil {
			t.Fatal(err)
		}
		if set.len() != 0 || len(skipped) != n {
			t.Fatalf("%d copies: kept %d, skipped %d", n, set.len(), len(skipped))
		}
	}
}

// RSA keys that can never verify anything are skipped with a reason rather
// than kept silently.
func TestParseJWKSSkipsImpossibleRSAKeys(t *testing.T) {
	body, err := os.ReadFile("../../testdata/jwks/keycloak-realm.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	good := doc.Keys[0]
	delete(good, "x5c")
	delete(good, "x5t")
	delete(good, "x5t#S256")
	n, _ := b64.DecodeString(good["n"].(string))
	evenN := slices.Clone(n)
	evenN[len(evenN)-1] &^= 1
	for name, edit := range map[string]func(map[string]any){
		"even modulus":  func(k map[string]any) { k["n"] = b64.EncodeToString(evenN) },
		"even exponent": func(k map[string]any) { k["e"] = "AQAA" },
		"exponent 1":    func(k map[string]any) { k["e"] = "AQ" },
		// Above 2^31-1, which crypto/rsa refuses too.
		"exponent 2^31+1": func(k map[string]any) { k["e"] = b64.EncodeToString([]byte{0x80, 0, 0, 1}) },
		"exponent 2^63-1": func(k map[string]any) {
			k["e"] = b64.EncodeToString([]byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		},
	} {
		k := maps.Clone(good)
		edit(k)
		b, _ := json.Marshal(map[string]any{"keys": []any{k}})
		set, skipped, err := parseJWKS(b, 64)
		if err != nil {
			t.Fatal(err)
		}
		if set.len() != 0 || len(skipped) != 1 || skipped[0].reason == "" {
			t.Errorf("%s: kept %d, skipped %v", name, set.len(), skipped)
		}
	}
	// The largest exponent crypto/rsa takes is kept.
	k := maps.Clone(good)
	k["e"] = b64.EncodeToString([]byte{0x7f, 0xff, 0xff, 0xff})
	b, _ := json.Marshal(map[string]any{"keys": []any{k}})
	if set, skipped, err := parseJWKS(b, 64); err != nil || set.len() != 1 {
		t.Errorf("exponent 2^31-1: kept %d, skipped %v, %v", set.len(), skipped, err)
	}
}

// JWKS member names are case-sensitive: "KEYS" is not "keys", "KEY_OPS" is
// not "key_ops", and a member may not repeat.
func TestJWKSMemberNamesAreExact(t *testing.T) {
	ed := `{"kty":"OKP","crv":"Ed25519","kid":"K","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"`
	for _, tc := range []struct {
		body string
		kept int
	}{
		{`{"keys":[` + ed + `}]}`, 1},
		{`{"KEYS":[` + ed + `}]}`, 0},
		{`{"keys":[` + ed + `,"key_ops":["encrypt"]}]}`, 0},
		{`{"keys":[` + ed + `,"KEY_OPS":["encrypt"]}]}`, 1},
		{`{"keys":[` + ed + `,"use":"enc"}]}`, 0},
		{`{"keys":[` + ed + `,"use":"sig","use":"enc"}]}`, 0},
		{`{"keys":[` + ed + `,"key_ops":["verify"],"key_ops":["encrypt"]}]}`, 0},
	} {
		set, _, err := parseJWKS([]byte(tc.body), 64)
		if got := set.len(); got != tc.kept {
			t.Errorf("%s: kept %d (err %v); want %d", tc.body, got, err, tc.kept)
		}
	}
	if _, _, err := parseJWKS([]byte(`{"keys":[],"keys":[`+ed+`}]}`), 64); err == nil {
		t.Error("a repeated keys member was accepted")
	}
}

// encoding/base64 skips line breaks even in strict mode; a segment must
// have exactly one spelling all the same.
func TestSegmentsWithLineBreaksAreRefused(t *testing.T) {
	for _, s := range []string{"Y\nQ", "YQ\r", "\r\nYQ"} {
		if _, err := decodeSegment(nil, s); err == nil {
			t.Errorf("decodeSegment(%q) accepted", s)
		}
	}
}
