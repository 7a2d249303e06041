package bearertest

import "runtime/debug"

// RaceDetector reports whether the running binary was built with the race
// detector (go test -race). Tests that count allocations skip their
// assertion then: the race detector's sync.Pool drops objects at random,
// so that what a server pools is sometimes allocated anew, and counts
// vary from run to run.
func RaceDetector() bool {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range info.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
