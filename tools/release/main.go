// Command release prepares a release of every published module of this
// repository, and checks that the modules can be released as they stand.
//
//	go run ./tools/release check          # what make test runs
//	go run ./tools/release set v0.2.0     # what make release VERSION=v0.2.0 runs
//	go run ./tools/release tags           # the tags of the version the modules name
//	go run ./tools/release standalone     # build and vet every module outside the workspace
//	go run ./tools/release download       # download what the workspace and every module need
//	go run ./tools/release tidy           # go mod tidy in every module (make tidy)
//
// The modules are those go.work uses; every one is published (tagged
// <dir>/vX.Y.Z) unless its go.mod has a comment line starting with
// "// Unpublished:". Between themselves the modules require one version,
// the next release: go.work makes development use the working tree, and
// a replace directive pointing at the module's directory may serve builds
// with GOWORK=off, but a user's build never honours it, so the required
// version must be one that is, or will be, tagged. A published module that
// holds a command has no replace directive at all, because `go install
// pkg@version` refuses a module that has one.
//
// set VERSION writes VERSION into every requirement between the modules,
// runs `go mod tidy` in each (outside the workspace, with the repository's
// modules replaced by their directories for the run only, so that go.sum
// never holds a checksum of a module that is not tagged yet), checks the
// result, and prints the tags to push once the change is committed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"

	"github.com/bouncer-go/bouncer/tools/internal/workspace"
)

func main() {
	root := flag.String("root", ".", "the repository's root, where go.work is")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: release [-root DIR] check | set VERSION | tags | standalone | download | tidy\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*root, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "release:", err)
		os.Exit(1)
	}
}

func run(root string, args []string) error {
	if len(args) == 0 {
		flag.Usage()
		os.Exit(64)
	}
	w, err := workspace.Load(root)
	if err != nil {
		return err
	}
	switch cmd := args[0]; {
	case cmd == "check" && len(args) == 1:
		if err := w.Check(); err != nil {
			return err
		}
		v, _ := w.Version()
		fmt.Printf("release: the %d modules require each other at %s; %d of them are published\n", len(w.Modules), v, len(w.Published()))
		return nil
	case cmd == "set" && len(args) == 2:
		return set(w, args[1])
	case cmd == "tags" && len(args) == 1:
		v, err := w.Version()
		if err != nil {
			return err
		}
		printTags(w, v)
		return nil
	case cmd == "standalone" && len(args) == 1:
		return standalone(w)
	case cmd == "download" && len(args) == 1:
		return download(w)
	case cmd == "tidy" && len(args) == 1:
		return tidy(w)
	}
	flag.Usage()
	os.Exit(64)
	return nil
}

func set(w *workspace.Workspace, version string) error {
	if err := workspace.CheckVersion(version); err != nil {
		return err
	}
	for _, m := range w.Modules {
		changed, err := w.SetVersion(m, version)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Rel, err)
		}
		if !changed {
			continue
		}
		data, err := workspace.Format(m)
		if err != nil {
			return fmt.Errorf("%s: %w", m.Rel, err)
		}
		if err := os.WriteFile(filepath.Join(m.Dir, "go.mod"), data, 0o644); err != nil {
			return err
		}
	}
	if err := tidy(w); err != nil {
		return err
	}
	// Reload what tidy wrote, and check it as make test will.
	w, err := workspace.Load(w.Root)
	if err != nil {
		return err
	}
	if err := w.Check(); err != nil {
		return err
	}
	fmt.Printf("Every module now requires the others at %s. Give CHANGELOG.md's section the version and\nthe date, commit, then tag that commit and push the tags:\n\n", version)
	printTags(w, version)
	return nil
}

func printTags(w *workspace.Workspace, version string) {
	var tags []string
	for _, m := range w.Published() {
		tags = append(tags, m.Tag(version))
		fmt.Printf("  git tag %s\n", m.Tag(version))
	}
	fmt.Printf("\n  git push origin %s\n", strings.Join(tags, " "))
}

// standalone builds and vets every module on its own, outside the
// workspace, as go.mod and go.sum alone describe it (with the repository's
// modules taken from their directories).
func standalone(w *workspace.Workspace) error {
	for _, m := range w.Modules {
		fmt.Printf("GOWORK=off go build, go vet %s\n", m.Rel)
		if err := local(w, m, "build", "-o", os.DevNull, "./..."); err != nil {
			return err
		}
		if err := local(w, m, "vet", "./..."); err != nil {
			return err
		}
	}
	return nil
}

// tidy runs go mod tidy in every module, as local describes: the way to
// tidy cmd/bouncer, whose go.mod has no replace directive, before the
// version it requires is tagged.
func tidy(w *workspace.Workspace) error {
	for _, m := range w.Modules {
		fmt.Fprintf(os.Stderr, "go mod tidy in %s\n", m.Rel)
		if err := local(w, m, "mod", "tidy"); err != nil {
			return err
		}
	}
	return nil
}

// download fetches, before any test runs, every module that a build or
// test will need: those of the workspace's build list, and each module's
// own when built outside the workspace (standalone, and the consumer
// test, whose programs require what the adapters require).
func download(w *workspace.Workspace) error {
	cmd := exec.Command("go", "mod", "download")
	cmd.Dir = w.Root
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go mod download in the workspace: %w", err)
	}
	for _, m := range w.Modules {
		if err := local(w, m, "mod", "download"); err != nil {
			return err
		}
	}
	return nil
}

// local runs `go args...` in m's directory outside the workspace, with a
// copy of its go.mod (and go.sum) in which every module of the repository
// is replaced by its directory: the modules' own go.mod files need no
// replace directive, and go.sum gains no checksum of a module of the
// repository. What the go command changes in the copies (tidy) is written
// back, less the replace directives added for the run.
func local(w *workspace.Workspace, m *workspace.Module, args ...string) error {
	tmp, err := os.MkdirTemp("", "release-gomod-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	gomod, gosum := filepath.Join(m.Dir, "go.mod"), filepath.Join(m.Dir, "go.sum")
	data, err := os.ReadFile(gomod)
	if err != nil {
		return err
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		return err
	}
	own := map[string]bool{}
	for _, r := range f.Replace {
		own[r.Old.Path] = true
	}
	var added []string
	for _, o := range w.Modules {
		if o == m || own[o.Path] {
			continue
		}
		if err := f.AddReplace(o.Path, "", o.Dir, ""); err != nil {
			return err
		}
		added = append(added, o.Path)
	}
	tmod, tsum := filepath.Join(tmp, "go.mod"), filepath.Join(tmp, "go.sum")
	out, err := f.Format()
	if err != nil {
		return err
	}
	if err := os.WriteFile(tmod, out, 0o644); err != nil {
		return err
	}
	sum, err := os.ReadFile(gosum)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if err := os.WriteFile(tsum, sum, 0o644); err != nil {
		return err
	}
	n := 1 // the flag goes after the command's name: go build -modfile, go mod tidy -modfile
	if args[0] == "mod" {
		n = 2
	}
	goArgs := append(append(append([]string{}, args[:n]...), "-modfile="+tmod), args[n:]...)
	cmd := exec.Command("go", goArgs...)
	cmd.Dir = m.Dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: go %s: %w", m.Rel, strings.Join(args, " "), err)
	}
	if args[0] != "mod" || args[1] != "tidy" {
		return nil
	}
	// Write back what tidy changed, without the added replacements.
	if data, err = os.ReadFile(tmod); err != nil {
		return err
	}
	if f, err = modfile.Parse(tmod, data, nil); err != nil {
		return err
	}
	for _, p := range added {
		if err := f.DropReplace(p, ""); err != nil {
			return err
		}
	}
	f.Cleanup()
	if out, err = f.Format(); err != nil {
		return err
	}
	if err := os.WriteFile(gomod, out, 0o644); err != nil {
		return err
	}
	if sum, err = os.ReadFile(tsum); err != nil {
		return err
	}
	if len(sum) == 0 {
		return nil
	}
	return os.WriteFile(gosum, sum, 0o644)
}
