package main

import (
	"net/http"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Exit codes, for scripts: they follow the HTTP status the API would
// answer, so a script can tell a bad token from a missing permission from
// an issuer outage. 64 is EX_USAGE of sysexits.h.
const (
	exitOK          = 0
	exitRefused     = 1
	exitDenied      = 2
	exitUnavailable = 3
	exitUsage       = 64
)

// exitFor is the exit code of a refusal by bouncer.
func exitFor(e *bearer.Error) int {
	switch e.StatusCode() {
	case http.StatusForbidden:
		return exitDenied
	case http.StatusServiceUnavailable:
		return exitUnavailable
	}
	return exitRefused
}
