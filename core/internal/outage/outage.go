// Package outage decides what an operator is told about a dependency that
// fails again and again, such as an issuer whose keys cannot be fetched.
//
// Retries during an outage are frequent (a verifier that holds no keys
// retries about once a second while requests arrive), and a log line per
// retry buries everything else for as long as the outage lasts. A Tracker
// paces the telling instead: the first failure of a run is told at once,
// then at most one summary per interval says how many more there were, and
// the first success after a run is told once, with the run's length. Only
// the log is paced: metrics still see every failure.
package outage

import "time"

// Kind says what a Report asks to be told.
type Kind int

const (
	// Quiet: nothing to tell now; the failure is counted for the next
	// summary.
	Quiet Kind = iota
	// First: the first failure of a run.
	First
	// Again: failures went on; Since of them since the last line.
	Again
	// Recovered: a success ended a run of Failures failures.
	Recovered
)

// Report is what a Tracker asks to be told after a failure or a success.
type Report struct {
	Kind Kind
	// Failures counts the run's failures so far (for Recovered: all).
	Failures int
	// Since counts the failures since the last line told (Again only).
	Since int
	// Lasted is the time since the run's first failure.
	Lasted time.Duration
}

// Tracker follows one run of consecutive failures. It is not safe for
// concurrent use: its owner serialises calls (a key source records each
// fetch's outcome under its lock). The zero value tells a summary on every
// failure after the first; set Every.
type Tracker struct {
	// Every is the least time between two lines about one run.
	Every time.Duration

	failures int       // failures of the current run
	told     int       // failures already told about
	first    time.Time // the run's first failure
	said     time.Time // the last line told
}

// Fail records a failure at now and reports what to tell.
func (t *Tracker) Fail(now time.Time) Report {
	t.failures++
	if t.failures == 1 {
		t.first, t.said, t.told = now, now, 1
		return Report{Kind: First, Failures: 1}
	}
	if now.Sub(t.said) < t.Every {
		return Report{Kind: Quiet, Failures: t.failures, Lasted: now.Sub(t.first)}
	}
	r := Report{Kind: Again, Failures: t.failures, Since: t.failures - t.told, Lasted: now.Sub(t.first)}
	t.said, t.told = now, t.failures
	return r
}

// Succeed records a success at now. It reports Recovered when it ends a
// run of failures, and Quiet otherwise.
func (t *Tracker) Succeed(now time.Time) Report {
	if t.failures == 0 {
		return Report{}
	}
	r := Report{Kind: Recovered, Failures: t.failures, Lasted: now.Sub(t.first)}
	*t = Tracker{Every: t.Every}
	return r
}

// Failures is the number of failures in the current run.
func (t *Tracker) Failures() int { return t.failures }
