package bearer

import (
	"encoding/json"
	"testing"
)

// FuzzParseKeySetUse: with a KeyUse, every key kept was published with
// exactly that use, never sig, none, or enc; and a key set read with the
// default use keeps no key of another use (FuzzParseJWKS).
func FuzzParseKeySetUse(f *testing.F) {
	for _, seed := range jwksSeeds(f) {
		f.Add(seed)
	}
	f.Add([]byte(`{"keys":[{"kty":"EC","use":"jwt-svid","kid":"a","crv":"P-256","x":"ngLYQnlfF6GsojUwqtcEE3WgTNG2RUlsGhK73RNEl5k","y":"tKbiDSUSsQ3F1P7wteeHNXIcU-cx6CgSbroeQrQHTLM"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		set, _, err := parseKeySet(body, 16, "jwt-svid")
		if err != nil {
			return
		}
		var doc struct{ Keys []json.RawMessage }
		if json.Unmarshal(body, &doc) != nil {
			t.Fatalf("accepted a key set encoding/json cannot read: %q", body)
		}
		uses := map[string]map[string]bool{} // kid: the uses its entries name
		for _, raw := range doc.Keys {
			var e map[string]any // exact member names, as bearer reads them
			if json.Unmarshal(raw, &e) != nil {
				continue
			}
			kid, use := str(e["kid"]), str(e["use"])
			if uses[kid] == nil {
				uses[kid] = map[string]bool{}
			}
			uses[kid][use] = true
		}
		for kid := range set.byID {
			if u := uses[kid]; len(u) != 1 || !u["jwt-svid"] {
				t.Fatalf("kept kid %q published with uses %v", kid, u)
			}
		}
		if len(set.noKid) > 0 && !uses[""]["jwt-svid"] {
			t.Fatalf("kept a key without kid, none of which says jwt-svid: %q", body)
		}
	})
}
