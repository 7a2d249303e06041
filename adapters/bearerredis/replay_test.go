package bearerredis_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// Only a proof whose token verified and is bound to the proof's key
// reaches Redis: a flood of valid proofs made with the caller's own keys,
// sent with a junk, an unbound or a stolen token, writes nothing, and a
// genuine proof writes its one key, which its replay then finds.
func TestReplayStoreTakesOnlyAcceptedProofs(t *testing.T) {
	rdb, _ := startRedis(t)
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"},
		DPoP: &bearer.DPoP{PublicURL: "https://api.example.com", Replay: bearerredis.New(rdb, bearerredis.WithPrefix("fleet:"))}})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := bearertest.NewKey("ES256")
	bound := iss.MustMint(t, map[string]any{"cnf": map[string]any{"jkt": key.Thumbprint()}})
	unbound := iss.MustMint(t, nil)
	check := func(k *bearertest.Key, tok string, proof string) error {
		if proof == "" {
			proof, _ = k.DPoPProof(http.MethodGet, "https://api.example.com/country", tok, "")
		}
		r := httptest.NewRequest(http.MethodGet, "/country", nil)
		r.Header.Set("Authorization", "DPoP "+tok)
		r.Header.Set("DPoP", proof)
		_, err := v.Check(bg, bearer.HTTPRequest(r))
		return err
	}
	for i := range 30 {
		attacker, _ := bearertest.NewKey("ES256")
		tok := []string{fmt.Sprintf("junk-%d", i), unbound, bound}[i%3]
		if err := check(attacker, tok, ""); err == nil {
			t.Fatalf("flood request %d accepted", i)
		}
	}
	if n := rdb.DBSize(bg).Val(); n != 0 {
		t.Fatalf("the flood wrote %d keys", n)
	}
	proof, _ := key.DPoPProof(http.MethodGet, "https://api.example.com/country", bound, "")
	if err := check(key, bound, proof); err != nil {
		t.Fatal(err)
	}
	if n := rdb.DBSize(bg).Val(); n != 1 {
		t.Fatalf("an accepted proof wrote %d keys", n)
	}
	if err := check(key, bound, proof); err == nil || !strings.Contains(err.Error(), "used before") {
		t.Fatalf("replay: %v", err)
	}
}
