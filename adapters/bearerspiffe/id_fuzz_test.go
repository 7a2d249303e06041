package bearerspiffe_test

import (
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/workload/spiffe"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
)

// FuzzParseIDAgainstGoSPIFFE holds bouncer's SPIFFE ID parser to
// go-spiffe's: both accept the same IDs, read into the same trust domain
// and path, except that bouncer also refuses what the specification lets
// it (IDs over 2048 bytes, trust domains over 255).
func FuzzParseIDAgainstGoSPIFFE(f *testing.F) {
	for _, s := range []string{
		"spiffe://example.org", "spiffe://example.org/ns/shop/sa/checkout", "spiffe://example.org/",
		"spiffe://a/b/../c", "spiffe://EXAMPLE.org/x", "spiffe://x/%41", "spiffe://x:1/y", "spiffe://u@x/y",
		"spiffe://x/y?z", "spiffe://x/y#z", "spiffe:///x", "SPIFFE://x/y", "spiffe://x/a_b.c-D/E",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ours, err := spiffe.ParseID(s)
		theirs, theirErr := spiffeid.FromString(s)
		if theirErr == nil && (len(s) > 2048 || len(theirs.TrustDomain().Name()) > 255) {
			if err == nil {
				t.Fatalf("%d bytes accepted", len(s))
			}
			return
		}
		if (err == nil) != (theirErr == nil) {
			t.Fatalf("ParseID(%q): %v; go-spiffe: %v", s, err, theirErr)
		}
		if err != nil {
			return
		}
		if ours.String() != theirs.String() || ours.TrustDomain() != theirs.TrustDomain().Name() || ours.Path() != theirs.Path() {
			t.Fatalf("%q: %q %q %q; go-spiffe %q %q %q", s, ours, ours.TrustDomain(), ours.Path(), theirs, theirs.TrustDomain().Name(), theirs.Path())
		}
		if strings.Count(s, "://") < 1 {
			t.Fatalf("%q accepted without a scheme separator", s)
		}
	})
}
