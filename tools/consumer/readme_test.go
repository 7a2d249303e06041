package main

import (
	"os"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/tools/internal/workspace"
)

func load(t *testing.T) (*workspace.Workspace, []byte, map[string][]byte) {
	t.Helper()
	w, err := workspace.Load("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	programs, err := readPrograms("testdata")
	if err != nil {
		t.Fatal(err)
	}
	return w, readme, programs
}

// The README's install section and code are what the consumer programs
// prove; make consumer builds and runs them.
func TestREADMEMatchesPrograms(t *testing.T) {
	w, readme, programs := load(t)
	if problems := checkREADME(readme, w, programs); len(problems) > 0 {
		t.Errorf("README.md and tools/consumer/testdata differ:\n%s", strings.Join(problems, "\n"))
	}
	if _, err := programsOf(w); err != nil {
		t.Error(err)
	}
}

func programsOf(w *workspace.Workspace) ([]program, error) { return programs(w, "testdata") }

func TestREADMEDriftIsFound(t *testing.T) {
	w, readme, programs := load(t)
	for _, c := range []struct{ name, from, to, want string }{
		{"a snippet's line", "auth.RequireScope(\"country.read\"), h)", "auth.RequireAnyScope(\"country.read\"), h)", "RequireAnyScope"},
		{"the complete program", "ReadHeaderTimeout: 10 * time.Second,\n\t}\n\tlog.Fatal", "ReadHeaderTimeout: 5 * time.Second,\n\t}\n\tlog.Fatal", "complete program"},
		{"a go get line", "go get github.com/bouncer-go/bouncer/adapters/bearerecho5 ", "go get github.com/bouncer-go/bouncer/adapters/bearerecho-five ", "bearerecho5"},
		{"a Go version", "| `adapters/bearerotel` | 1.26 |", "| `adapters/bearerotel` | 1.25 |", "Go 1.25"},
		{"a framework version", "github.com/gin-gonic/gin v1.12.0 |", "github.com/gin-gonic/gin v1.11.0 |", "gin v1.12.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(readme), c.from) {
				t.Fatalf("README.md has no %q to change", c.from)
			}
			changed := strings.Replace(string(readme), c.from, c.to, 1)
			problems := checkREADME([]byte(changed), w, programs)
			if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), c.want) {
				t.Errorf("changing %q to %q: problems %q, want one naming %q", c.from, c.to, problems, c.want)
			}
		})
	}
}
