// Package tokenfixture reads the recorded token shapes of testdata/tokens
// for tests: each file holds a token's header and claims as a real issuer
// shapes them (see testdata/tokens/PROVENANCE.md), and Mint re-signs them
// with a bearertest key, so that a test proves what a verifier makes of a
// token of exactly that shape.
package tokenfixture

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// Fixture is one recorded token shape.
type Fixture struct {
	Name        string
	Description string         `json:"description"`
	Header      map[string]any `json:"header"`
	Claims      map[string]any `json:"claims"`
	// Workload is what a package of core/workload must read of it, in
	// that package's own terms.
	Workload json.RawMessage `json:"workload"`
}

// Dir is testdata/tokens of the repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "tokens")
}

// Load reads the fixtures whose file names match pattern (e.g.
// "spiffe-*.json", "refused/kubernetes-*.json"); it fails the test when
// none does.
func Load(tb testing.TB, pattern string) []Fixture {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(Dir(), pattern))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no token fixtures match %s: %v", pattern, err)
	}
	var out []Fixture
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var fx Fixture
		if err := json.Unmarshal(b, &fx); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		fx.Name = filepath.Base(f)
		out = append(out, fx)
	}
	return out
}

// Decode reads the fixture's workload expectations into v.
func (f Fixture) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(f.Workload, v); err != nil {
		tb.Fatalf("%s: workload: %v", f.Name, err)
	}
}

// Mint re-signs the fixture with iss: every claim as recorded, but the
// times moved to now (iat, nbf where recorded, exp five minutes on), the
// claims of set put over them (nil removes one), and the header's typ and
// x5t as recorded (kid and alg are the signing key's). Claims the fixture
// lacks stay out of the token: bearertest's defaults are not added.
func (f Fixture) Mint(tb testing.TB, iss *bearertest.Issuer, now time.Time, set map[string]any, opts ...bearertest.MintOption) string {
	tb.Helper()
	claims := map[string]any{}
	for k, v := range f.Claims {
		claims[k] = v
	}
	for _, dflt := range []string{"iss", "sub", "aud", "client_id", "jti", "iat", "exp"} {
		if _, ok := claims[dflt]; !ok {
			claims[dflt] = nil
		}
	}
	if _, ok := f.Claims["iat"]; ok {
		claims["iat"] = now.Unix()
	}
	if _, ok := f.Claims["exp"]; ok {
		claims["exp"] = now.Add(5 * time.Minute).Unix()
	}
	if _, ok := f.Claims["nbf"]; ok {
		claims["nbf"] = now.Unix()
	}
	for k, v := range set {
		claims[k] = v
	}
	for _, h := range []string{"typ", "x5t"} {
		opts = append([]bearertest.MintOption{bearertest.WithHeader(h, f.Header[h])}, opts...)
	}
	return iss.MustMint(tb, claims, opts...)
}
