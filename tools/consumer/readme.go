package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/bouncer-go/bouncer/tools/internal/workspace"
)

// checkedSections are the README's sections whose Go code must be what
// the consumer programs do: a block naming an adapter must be found in one
// of them, and a whole program must be one of them.
var checkedSections = []string{"Install", "Quick start", "MCP server", "Metrics and traces"}

// block is a fenced Go block of the README.
type block struct {
	section string
	line    int
	text    string
}

// readmeBlocks returns the Go blocks of the README's checked sections,
// and the text of its Install section.
func readmeBlocks(readme []byte) (blocks []block, install string) {
	var section string
	var in *block
	var installText strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case in != nil && strings.TrimSpace(line) == "```":
			blocks = append(blocks, *in)
			in = nil
			continue
		case in != nil:
			in.text += line + "\n"
			continue
		case strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		case strings.TrimSpace(line) == "```go" && checked(section):
			in = &block{section: section, line: n + 1}
			continue
		}
		if strings.HasPrefix(section, "Install") {
			installText.WriteString(line + "\n")
		}
	}
	return blocks, installText.String()
}

func checked(section string) bool {
	for _, s := range checkedSections {
		if strings.HasPrefix(section, s) {
			return true
		}
	}
	return false
}

// checkREADME reports where the README's install section and code differ
// from the consumer programs (each a directory's Go files, by path) and
// the published modules.
func checkREADME(readme []byte, w *workspace.Workspace, programs map[string][]byte) []string {
	var problems []string
	blocks, install := readmeBlocks(readme)
	if install == "" {
		problems = append(problems, "README.md has no Install section")
	}
	for _, m := range w.Published() {
		want := "go get " + m.Path
		if m.Commands {
			want = "go install " + m.Path + "@latest"
		}
		if !regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(want) + `(\s|$)`).MatchString(install) {
			problems = append(problems, fmt.Sprintf("README.md's Install section does not say %q", want))
		}
	}
	problems = append(problems, checkVersions(install, w)...)
	var adapters []string
	for _, m := range w.Published() {
		if !m.Commands && m.Path != w.RepoPath+"/core" {
			adapters = append(adapters, regexp.QuoteMeta(m.Base()))
		}
	}
	namesAdapter := regexp.MustCompile(`\b(` + strings.Join(adapters, "|") + `)\.`)
	for _, b := range blocks {
		if wholeFile.MatchString(b.text) {
			if !wholeProgram(b.text, programs) {
				problems = append(problems, fmt.Sprintf("README.md:%d (%s): the complete program is none of the consumer programs in tools/consumer/testdata", b.line, b.section))
			}
			continue
		}
		if !namesAdapter.MatchString(b.text) {
			continue
		}
		if missing := inSomeProgram(b.text, programs); missing != "" {
			problems = append(problems, fmt.Sprintf("README.md:%d (%s): no consumer program in tools/consumer/testdata does this; nearest miss at %q", b.line, b.section, missing))
		}
	}
	return problems
}

// wholeFile matches a block that is a whole Go file, not a snippet.
var wholeFile = regexp.MustCompile(`(?m)^package \w+$`)

func wholeProgram(text string, programs map[string][]byte) bool {
	for _, src := range programs {
		if string(src) == text {
			return true
		}
	}
	return false
}

// inSomeProgram reports "" when some program holds every line of text, in
// order (other lines may come between: a snippet shows what matters),
// comparing lines without indentation, alignment or trailing comments, skipping
// comment lines. Otherwise it returns the first line that the best
// program lacks.
func inSomeProgram(text string, programs map[string][]byte) string {
	want := codeLines(text)
	best, bestAt := "", -1
	for _, src := range programs {
		have := codeLines(string(src))
		i := 0
		for _, l := range have {
			if i < len(want) && l == want[i] {
				i++
			}
		}
		if i == len(want) {
			return ""
		}
		if i > bestAt {
			best, bestAt = want[i], i
		}
	}
	return best
}

func codeLines(text string) []string {
	var out []string
	for l := range strings.SplitSeq(text, "\n") {
		if i := strings.Index(l, " //"); i >= 0 {
			l = l[:i]
		}
		l = strings.Join(strings.Fields(l), " ") // gofmt aligns with spaces
		if l == "" || strings.HasPrefix(l, "//") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// readPrograms reads every Go file below dir, by slash path relative to it.
func readPrograms(dir string) (map[string][]byte, error) {
	programs := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return err
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		programs[filepath.ToSlash(rel)] = src
		return nil
	})
	return programs, err
}

// checkVersions checks the Install section's table of supported versions:
// a row per published module, naming the Go version of its go directive
// and the version of every module it requires directly.
func checkVersions(install string, w *workspace.Workspace) []string {
	rows := map[string][]string{}
	for l := range strings.Lines(install) {
		cells := strings.Split(strings.TrimSpace(l), "|")
		if len(cells) < 4 {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows[strings.Trim(cells[1], "`")] = cells[2:]
	}
	var problems []string
	for _, m := range w.Published() {
		row, ok := rows[m.Rel]
		if !ok {
			problems = append(problems, fmt.Sprintf("README.md's supported versions have no row for %s", m.Rel))
			continue
		}
		goVersion := strings.TrimSuffix(m.File.Go.Version, ".0")
		if row[0] != goVersion {
			problems = append(problems, fmt.Sprintf("README.md's supported versions give %s Go %s; its go.mod says %s", m.Rel, row[0], m.File.Go.Version))
		}
		for _, r := range m.File.Require {
			if !r.Indirect && !w.Internal(r.Mod.Path) && !strings.Contains(row[1], r.Mod.Version) {
				problems = append(problems, fmt.Sprintf("README.md's supported versions do not give %s's requirement %s %s", m.Rel, r.Mod.Path, r.Mod.Version))
			}
		}
	}
	return problems
}
