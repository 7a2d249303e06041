package main

import (
	"strings"
	"testing"
)

func TestHelp(t *testing.T) {
	r := bouncer(t, "", "help")
	r.wants(t, exitOK, "Exit codes:", "  2   check: the token is valid but --scope or --role denies it (403)", "  64  usage error")
	for _, cmd := range commands {
		r.wants(t, exitOK, "  "+cmd.name)
		flagLine := "-issuer URL"
		if cmd.name == "serve" {
			flagLine = "-config FILE"
		}
		bouncer(t, "", "help", cmd.name).wants(t, exitOK, "usage: bouncer "+cmd.name, flagLine)
		bouncer(t, "", cmd.name, "-h").wants(t, exitOK, "usage: bouncer "+cmd.name)
	}
	for _, args := range [][]string{nil, {"verify"}, {"help", "verify"}} {
		r := bouncer(t, "", args...)
		if r.code != exitUsage || r.stdout != "" || !strings.Contains(r.stderr, "bouncer") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}
