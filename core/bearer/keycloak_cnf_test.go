package bearer_test

import (
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Keycloak 26.7 writes a member of its own beside the thumbprint of a
// DPoP-bound token: "cnf":{"jkt":"…","kc-jkt-type":"DPoP"} (recorded from
// a live Keycloak 26.7.3 by the integration tests). The binding bouncer
// checks, jkt, is there and is enforced: such a token is accepted with a
// proof of its key, and refused as Bearer. A cnf whose only members are
// ones bouncer cannot check stays refused.
func TestKeycloakDPoPConfirmation(t *testing.T) {
	r := newDPoPRig(t)
	kcTok := r.iss.MustMint(t, map[string]any{"scope": "country.read", "cnf": map[string]any{"jkt": r.key.Thumbprint(), "kc-jkt-type": "DPoP"}})
	r.tok = kcTok
	if _, err := r.v.Check(bg, dpopRequest("/country/code/AUS", kcTok, r.proof(t))); err != nil {
		t.Fatalf("Keycloak's DPoP-bound token with its proof: %v", err)
	}
	_, err := r.v.Check(bg, withAuth("Bearer "+kcTok))
	wantRefusal(t, err, bearer.ErrSenderConstrained, 401)

	for name, cnf := range map[string]map[string]any{
		"an unknown method alone": {"kc-jkt-type": "DPoP"},
		"a jwk":                   {"jwk": map[string]any{"kty": "EC"}},
	} {
		tok := r.iss.MustMint(t, map[string]any{"cnf": cnf})
		if _, err := r.v.Check(bg, withAuth("Bearer "+tok)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
