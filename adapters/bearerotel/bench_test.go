package bearerotel_test

import (
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// The cost an Observer adds to every decision.
func BenchmarkObserve(b *testing.B) {
	obs, _ := newObserver(b)
	e := bearer.Event{Kind: bearer.EventAccepted, Issuer: "https://sso.example.com/realms/api", Duration: 3 * time.Microsecond, Cached: true}
	b.ReportAllocs()
	for b.Loop() {
		obs.Observe(e)
	}
}
