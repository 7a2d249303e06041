package bearer

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Bounds on how long the issuer may ask for its keys to be cached: short
// enough that a removed key stops being accepted within a day, long enough
// that a max-age=0 does not turn every request into a fetch.
const (
	minRefresh = 30 * time.Second
	maxRefresh = 24 * time.Hour
)

// freshFor reads how long a JWKS answer may be used from its Cache-Control
// max-age (or s-maxage) less its Age (how long a cache on the way held it,
// RFC 9111 §4.2.3), else its Expires, else def. no-store and no-cache,
// which a key cache cannot honour per request, also mean def. The result
// is clamped and jittered by ±10% so that a fleet of verifiers does not
// refresh in step.
func freshFor(h http.Header, now time.Time, def time.Duration) time.Duration {
	d, ok := maxAge(h.Get("Cache-Control"))
	if ok {
		if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 {
			d -= time.Duration(min(age, int64(maxRefresh/time.Second))) * time.Second
		}
	}
	if !ok {
		if exp, err := http.ParseTime(h.Get("Expires")); err == nil {
			d, ok = exp.Sub(now), true
		}
	}
	if !ok {
		d = def
	}
	d = min(max(d, minRefresh), maxRefresh)
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}

func maxAge(cc string) (time.Duration, bool) {
	var found time.Duration
	ok := false
	for _, directive := range strings.Split(cc, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			return 0, false
		case "max-age", "s-maxage":
			secs, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
			if err == nil && secs >= 0 && !ok {
				found, ok = time.Duration(min(secs, int64(maxRefresh/time.Second)))*time.Second, true
			}
		}
	}
	return found, ok
}
