package outage

import (
	"testing"
	"time"
)

// An hour of failures a second is told in about sixty lines (one a
// minute), and its end once.
func TestAnHourOfFailuresIsToldOnceAMinute(t *testing.T) {
	tr := Tracker{Every: time.Minute}
	start := time.Unix(1_700_000_000, 0)
	kinds := map[Kind]int{}
	since := 0
	for s := range 3600 {
		r := tr.Fail(start.Add(time.Duration(s) * time.Second))
		kinds[r.Kind]++
		if r.Kind == Again {
			since += r.Since
			if r.Since != 60 {
				t.Fatalf("summary at %ds counts %d failures since the last line; want 60", s, r.Since)
			}
		}
		if r.Failures != s+1 {
			t.Fatalf("failure %d reported as %d", s+1, r.Failures)
		}
	}
	if kinds[First] != 1 || kinds[Again] != 59 || kinds[Quiet] != 3600-60 {
		t.Fatalf("lines told: %v", kinds)
	}
	if since != 59*60 {
		t.Fatalf("summaries counted %d failures; want %d", since, 59*60)
	}
	end := start.Add(time.Hour)
	r := tr.Succeed(end)
	if r.Kind != Recovered || r.Failures != 3600 || r.Lasted != time.Hour {
		t.Fatalf("recovery: %+v", r)
	}
	if r := tr.Succeed(end.Add(time.Second)); r.Kind != Quiet {
		t.Fatalf("a second success told again: %+v", r)
	}
	if r := tr.Fail(end.Add(2 * time.Second)); r.Kind != First || r.Failures != 1 {
		t.Fatalf("a new run does not start afresh: %+v", r)
	}
}

func TestSuccessWithoutFailuresIsQuiet(t *testing.T) {
	var tr Tracker
	if r := tr.Succeed(time.Now()); r.Kind != Quiet || tr.Failures() != 0 {
		t.Fatalf("%+v", r)
	}
}
