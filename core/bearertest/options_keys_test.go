package bearertest_test

import (
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

func TestWithKeysForPublishesAtStart(t *testing.T) {
	iss, err := bearertest.NewIssuer(bearertest.WithKeysFor(bearertest.CommonAlgorithms...))
	if err != nil {
		t.Fatal(err)
	}
	defer iss.Close()
	algs := map[string]bool{}
	for _, k := range iss.JWKS().Keys {
		algs[k["alg"].(string)] = true
	}
	for _, alg := range bearertest.CommonAlgorithms {
		if !algs[alg] {
			t.Errorf("no %s key published at start: %v", alg, algs)
		}
	}
	if _, err := bearertest.NewIssuer(bearertest.WithKeysFor("HS256")); err == nil {
		t.Error("WithKeysFor accepted HS256")
	}
}
