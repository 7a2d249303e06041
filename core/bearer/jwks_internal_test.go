package bearer

import (
	"os"
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
		if _, err := decodeSegment(s); err == nil {
			t.Errorf("decodeSegment(%q) accepted", s)
		}
	}
	if b, err := decodeSegment("YQ"); err != nil || string(b) != "a" {
		t.Fatalf("decodeSegment(YQ) = %q, %v", b, err)
	}
}
