// Package modproxy writes a module proxy on the file system (the layout
// that GOPROXY=file://DIR reads) holding modules of this repository at a
// version that has not been tagged yet, made from the working tree as a
// tag of it would be.
package modproxy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/bouncer-go/bouncer/tools/internal/workspace"
)

// Write puts each of mods at version into the proxy at dir: its .info,
// .mod (the working tree's go.mod) and .zip, made with golang.org/x/mod/zip
// from the module's files that git tracks or would track (ignored files
// are left out, as they are from a tag), without nested modules.
func Write(dir string, w *workspace.Workspace, mods []*workspace.Module, version string, at time.Time) error {
	tree, err := gitFiles(w.Root)
	if err != nil {
		return err
	}
	for _, m := range mods {
		if err := writeModule(dir, w.Root, tree, m, version, at); err != nil {
			return fmt.Errorf("%s@%s: %w", m.Path, version, err)
		}
	}
	return nil
}

func writeModule(dir, root string, tree []string, m *workspace.Module, version string, at time.Time) error {
	esc, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(dir, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	gomod, err := os.ReadFile(filepath.Join(m.Dir, "go.mod"))
	if err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, at.UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	var files []modzip.File
	prefix := m.Rel + "/"
	for _, p := range tree {
		if rel, ok := strings.CutPrefix(p, prefix); ok {
			files = append(files, file{abs: filepath.Join(root, filepath.FromSlash(p)), rel: rel})
		}
	}
	var zip bytes.Buffer
	if err := modzip.Create(&zip, module.Version{Path: m.Path, Version: version}, files); err != nil {
		return err
	}
	for name, data := range map[string][]byte{
		"list":            []byte(version + "\n"),
		version + ".info": info,
		version + ".mod":  gomod,
		version + ".zip":  zip.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(vdir, name), data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// gitFiles lists, relative to root and slash-separated, the files of the
// working tree that git tracks or would track, leaving out deleted ones.
func gitFiles(root string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %v: %s", err, stderr.Bytes())
	}
	var files []string
	seen := map[string]bool{}
	for p := range strings.SplitSeq(string(out), "\x00") {
		if p == "" || seen[p] {
			continue
		}
		seen[p] = true
		if fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(p))); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		files = append(files, p)
	}
	return files, nil
}

// file is a file of the working tree, as modzip.Create reads it.
type file struct{ abs, rel string }

func (f file) Path() string                 { return f.rel }
func (f file) Lstat() (os.FileInfo, error)  { return os.Lstat(f.abs) }
func (f file) Open() (io.ReadCloser, error) { return os.Open(f.abs) }
