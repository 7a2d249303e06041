// Package workspace finds the modules of this repository from its go.work
// file, and tells which of them are published: tagged and fetched by users
// through the module proxy.
package workspace

import (
	"bytes"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

// A Module is one module of the workspace.
type Module struct {
	Path string // module path, e.g. github.com/bouncer-go/bouncer/adapters/bearergin
	Dir  string // absolute directory
	Rel  string // directory relative to the repository root, slash-separated: adapters/bearergin
	// Published is false for a module whose go.mod says, in a comment line
	// starting with "// Unpublished:", why it is not released (the
	// examples, the benchmarks, these tools). Every other module is
	// released, so that a new module is published unless it says otherwise.
	Published bool
	// Commands reports whether the module holds a main package outside
	// testdata. `go install pkg@version` refuses such a module when its
	// go.mod has replace or exclude directives.
	Commands bool
	File     *modfile.File
}

// Tag is the git tag that releases the module at version: the module's
// directory, then the version (core/v0.1.0), as the go command expects of
// a module in a subdirectory of its repository.
func (m *Module) Tag(version string) string { return m.Rel + "/" + version }

// Workspace is the repository's modules, in go.work's order.
type Workspace struct {
	Root     string // absolute path of the repository root, where go.work is
	RepoPath string // the module path of the repository root: github.com/bouncer-go/bouncer
	Modules  []*Module
}

// unpublished marks a go.mod whose module is not released.
var unpublished = regexp.MustCompile(`(?m)^//\s*Unpublished:`)

// Load reads root/go.work and every module it uses. Every module's path
// must be the repository's path followed by its directory, which is what
// lets a tag named after the directory release it.
func Load(root string) (*Workspace, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	workPath := filepath.Join(root, "go.work")
	data, err := os.ReadFile(workPath)
	if err != nil {
		return nil, err
	}
	work, err := modfile.ParseWork(workPath, data, nil)
	if err != nil {
		return nil, err
	}
	w := &Workspace{Root: root}
	for _, u := range work.Use {
		dir := filepath.Join(root, filepath.FromSlash(u.Path))
		m, err := loadModule(root, dir)
		if err != nil {
			return nil, err
		}
		repo, ok := strings.CutSuffix(m.Path, "/"+m.Rel)
		if !ok || m.Rel == "." {
			return nil, fmt.Errorf("%s: module %s does not end in its directory %s, so no tag %s can release it", u.Path, m.Path, m.Rel, m.Tag("vX.Y.Z"))
		}
		if w.RepoPath == "" {
			w.RepoPath = repo
		} else if repo != w.RepoPath {
			return nil, fmt.Errorf("%s: module %s is not under %s like the others", u.Path, m.Path, w.RepoPath)
		}
		w.Modules = append(w.Modules, m)
	}
	if len(w.Modules) == 0 {
		return nil, fmt.Errorf("%s uses no module", workPath)
	}
	return w, nil
}

func loadModule(root, dir string) (*Module, error) {
	gomod := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(gomod)
	if err != nil {
		return nil, err
	}
	f, err := modfile.Parse(gomod, data, nil)
	if err != nil {
		return nil, err
	}
	if f.Module == nil {
		return nil, fmt.Errorf("%s: no module line", gomod)
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return nil, err
	}
	m := &Module{
		Path:      f.Module.Mod.Path,
		Dir:       dir,
		Rel:       filepath.ToSlash(rel),
		Published: !unpublished.Match(data),
		File:      f,
	}
	if m.Commands, err = hasCommands(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// hasCommands reports whether dir, outside nested modules and testdata,
// holds a Go file of package main.
func hasCommands(dir string) (bool, error) {
	found := false
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == dir {
				return nil
			}
			name := d.Name()
			if name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(p, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if found || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.PackageClauseOnly)
		if err != nil {
			return err
		}
		found = f.Name.Name == "main"
		return nil
	})
	return found, err
}

// Module returns the workspace module with path p, or nil.
func (w *Workspace) Module(p string) *Module {
	for _, m := range w.Modules {
		if m.Path == p {
			return m
		}
	}
	return nil
}

// Published is the modules that are released, in go.work's order.
func (w *Workspace) Published() []*Module {
	var out []*Module
	for _, m := range w.Modules {
		if m.Published {
			out = append(out, m)
		}
	}
	return out
}

// Internal reports whether p is the path of a module of this repository.
func (w *Workspace) Internal(p string) bool {
	return p == w.RepoPath || strings.HasPrefix(p, w.RepoPath+"/")
}

// Requirement is one require line of a workspace module that names
// another module of the repository.
type Requirement struct {
	From    *Module
	Path    string
	Version string
}

// Requirements lists every require line naming a module of the repository.
func (w *Workspace) Requirements() []Requirement {
	var out []Requirement
	for _, m := range w.Modules {
		for _, r := range m.File.Require {
			if w.Internal(r.Mod.Path) {
				out = append(out, Requirement{From: m, Path: r.Mod.Path, Version: r.Mod.Version})
			}
		}
	}
	return out
}

// Version is the one version that every requirement between the
// repository's modules names. It fails when they disagree, when one names
// v0.0.0 (which no tag releases), or when none exists.
func (w *Workspace) Version() (string, error) {
	var errs []error
	versions := map[string][]string{}
	for _, r := range w.Requirements() {
		versions[r.Version] = append(versions[r.Version], r.From.Rel+" requires "+r.Path)
	}
	if len(versions) == 0 {
		return "", errors.New("no module of the repository requires another")
	}
	if len(versions) > 1 {
		var lines []string
		for v, where := range versions {
			lines = append(lines, fmt.Sprintf("%s (%d: %s…)", v, len(where), where[0]))
		}
		slices.Sort(lines)
		errs = append(errs, fmt.Errorf("the repository's modules require each other at different versions: %s", strings.Join(lines, "; ")))
	}
	for v, where := range versions {
		if err := CheckVersion(v); err != nil {
			errs = append(errs, fmt.Errorf("%v: %d requirements name it, such as %s", err, len(where), where[0]))
		}
	}
	if len(errs) > 0 {
		return "", errors.Join(errs...)
	}
	for v := range versions {
		return v, nil
	}
	panic("unreachable")
}

// CheckVersion reports whether v can be the version of a release: a
// canonical semantic version of major version 0 or 1 (the modules' paths
// carry no /vN suffix), and not v0.0.0.
func CheckVersion(v string) error {
	if module.CanonicalVersion(v) != v {
		return fmt.Errorf("version %q is not a canonical semantic version such as v0.1.0", v)
	}
	if module.IsPseudoVersion(v) {
		return fmt.Errorf("version %s is a pseudo-version, not a release", v)
	}
	if v == "v0.0.0" {
		return errors.New("version v0.0.0 is a placeholder that no tag releases")
	}
	if err := module.CheckPathMajor(v, ""); err != nil {
		return err
	}
	return nil
}

// Check reports every way the workspace cannot be released as it stands:
// requirements that disagree or name v0.0.0 (see Version), a published
// module that requires an unpublished one, a replace of a repository module
// that points anywhere but its directory, replace or exclude directives in a
// published module that holds a command (which `go install
// pkg@version` refuses), and a go.mod in the repository that go.work
// does not use (the release would miss it).
func (w *Workspace) Check() error {
	var errs []error
	if _, err := w.Version(); err != nil {
		errs = append(errs, err)
	}
	for _, r := range w.Requirements() {
		to := w.Module(r.Path)
		if to == nil {
			errs = append(errs, fmt.Errorf("%s requires %s, which go.work does not use", r.From.Rel, r.Path))
			continue
		}
		if r.From.Published && !to.Published {
			errs = append(errs, fmt.Errorf("%s is published but requires %s, which is not", r.From.Rel, r.Path))
		}
	}
	for _, m := range w.Modules {
		for _, rep := range m.File.Replace {
			if !w.Internal(rep.Old.Path) {
				continue
			}
			to := w.Module(rep.Old.Path)
			if to == nil {
				errs = append(errs, fmt.Errorf("%s replaces %s, which go.work does not use", m.Rel, rep.Old.Path))
				continue
			}
			want, _ := filepath.Rel(m.Dir, to.Dir)
			if rep.New.Version != "" || filepath.Clean(filepath.FromSlash(rep.New.Path)) != want {
				errs = append(errs, fmt.Errorf("%s replaces %s with %s, not its directory %s", m.Rel, rep.Old.Path, rep.New.Path, filepath.ToSlash(want)))
			}
		}
		if m.Published && m.Commands && (len(m.File.Replace) > 0 || len(m.File.Exclude) > 0) {
			errs = append(errs, fmt.Errorf("%s holds a command and has replace or exclude directives: `go install %s@version` refuses such a module", m.Rel, m.Path))
		}
	}
	missing, err := w.unused()
	if err != nil {
		errs = append(errs, err)
	}
	for _, rel := range missing {
		errs = append(errs, fmt.Errorf("%s/go.mod is a module that go.work does not use", rel))
	}
	return errors.Join(errs...)
}

// unused lists the directories below the root, outside testdata and
// node_modules, that hold a go.mod that go.work does not use.
func (w *Workspace) unused() ([]string, error) {
	used := map[string]bool{}
	for _, m := range w.Modules {
		used[m.Rel] = true
	}
	var missing []string
	err := filepath.WalkDir(w.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != w.Root && (name == "testdata" || name == "node_modules" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Name() != "go.mod" {
			return nil
		}
		rel, _ := filepath.Rel(w.Root, filepath.Dir(p))
		if rel = filepath.ToSlash(rel); !used[rel] {
			missing = append(missing, rel)
		}
		return nil
	})
	return missing, err
}

// SetVersion makes every requirement of m that names a module of the
// repository name version, and reports whether anything changed. It
// changes m.File; Format gives the new go.mod.
func (w *Workspace) SetVersion(m *Module, version string) (bool, error) {
	changed := false
	for _, r := range slices.Clone(m.File.Require) {
		if !w.Internal(r.Mod.Path) || r.Mod.Version == version {
			continue
		}
		if err := m.File.AddRequire(r.Mod.Path, version); err != nil {
			return false, err
		}
		changed = true
	}
	return changed, nil
}

// Format is m's go.mod as its File now says.
func Format(m *Module) ([]byte, error) {
	m.File.Cleanup()
	data, err := m.File.Format()
	if err != nil {
		return nil, err
	}
	return bytes.TrimLeft(data, "\n"), nil
}

// ModulePath returns the workspace module that holds package pkg: the
// one with the longest path that is a prefix of pkg.
func (w *Workspace) ModuleOf(pkg string) *Module {
	var best *Module
	for _, m := range w.Modules {
		if (pkg == m.Path || strings.HasPrefix(pkg, m.Path+"/")) && (best == nil || len(m.Path) > len(best.Path)) {
			best = m
		}
	}
	return best
}

// Base is the last element of m's path: the adapter's package name.
func (m *Module) Base() string { return path.Base(m.Path) }
