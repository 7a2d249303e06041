package main

import (
	"fmt"
	"time"
)

// human renders a duration for people, in its two largest units: "4m12s",
// "2h5m", "3d". Token lifetimes span seconds to days, where
// time.Duration's "73h0m0s" reads poorly.
func human(d time.Duration) string {
	d = d.Round(time.Second)
	if d < 0 {
		d = -d
	}
	units := []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}}
	for i, u := range units {
		if d < u.size {
			continue
		}
		out := fmt.Sprintf("%d%s", d/u.size, u.name)
		if i+1 < len(units) {
			if next := d % u.size / units[i+1].size; next > 0 {
				out += fmt.Sprintf("%d%s", next, units[i+1].name)
			}
		}
		return out
	}
	return "0s"
}

// relative places t against now: "3s ago (2026-05-01T10:00:00Z)",
// "in 4m57s (…)".
func relative(t, now time.Time) string {
	at := t.UTC().Format(time.RFC3339)
	if t.After(now) {
		return fmt.Sprintf("in %s (%s)", human(t.Sub(now)), at)
	}
	return fmt.Sprintf("%s ago (%s)", human(now.Sub(t)), at)
}
