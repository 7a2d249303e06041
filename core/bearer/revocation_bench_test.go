package bearer_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// BenchmarkRevocationCacheHit measures a cache hit through Check (what a
// client-credentials caller's every request but the first costs) by a
// verifier without a Revoker, with an empty one, and with one holding
// 100,000 rules, none covering the token. Each variant reports ns/op and
// allocations on its own; "ratio" reports each Revoker's cost as a multiple
// of the hit without one, measured in interleaved rounds of the same run
// (the median of the rounds), so that a busy machine slows all alike.
func BenchmarkRevocationCacheHit(b *testing.B) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(testAudience))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	tok := iss.MustMint(b, map[string]any{"scope": "country.read customer.read", "azp": "country-client"})
	var r bearer.Request = withAuth("Bearer " + tok)
	policy := bearer.RequireScope("country.read")

	full := newRevoker(b)
	var rules []bearer.Revocation
	kinds := []bearer.RevocationKind{bearer.RevokeTokenID, bearer.RevokeClientBefore, bearer.RevokeSubjectBefore, bearer.RevokeToken}
	for i := range 100_000 {
		rule := bearer.Revocation{Kind: kinds[i%4], Issuer: iss.URL(), Value: fmt.Sprint("value-", i), Before: time.Now()}
		if rule.Kind == bearer.RevokeToken {
			rule.Issuer, rule.Value = "", bearer.TokenHash(rule.Value)
		}
		rules = append(rules, rule)
	}
	revoke(b, full, rules...)
	if n := len(full.Rules()); n != 100_000 {
		b.Fatalf("%d rules held", n)
	}
	variants := []struct {
		name string
		v    *bearer.Verifier
	}{
		{"none", nil},
		{"empty", nil},
		{"100k", nil},
	}
	for i, rv := range []*bearer.Revoker{nil, newRevoker(b), full} {
		v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience}, Revocation: rv, Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Check(bg, r, policy); err != nil {
			b.Fatal(err)
		}
		variants[i].v = v
	}
	for _, vr := range variants {
		b.Run(vr.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := vr.v.Check(bg, r, policy); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("ratio", func(b *testing.B) {
		const batch = 256
		round := func(v *bearer.Verifier) time.Duration {
			start := time.Now()
			for range batch {
				_, _ = v.Check(bg, r, policy)
			}
			return time.Since(start)
		}
		var empty, hundredK []float64
		for b.Loop() {
			base := round(variants[0].v)
			empty = append(empty, float64(round(variants[1].v))/float64(base))
			base = round(variants[0].v)
			hundredK = append(hundredK, float64(round(variants[2].v))/float64(base))
		}
		median := func(s []float64) float64 { slices.Sort(s); return s[len(s)/2] }
		b.ReportMetric(median(empty), "x-empty")
		b.ReportMetric(median(hundredK), "x-100k")
	})
}
