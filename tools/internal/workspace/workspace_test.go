package workspace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repo writes a repository of modules (directory → go.mod text) and its
// go.work, and loads it.
func repo(t *testing.T, files map[string]string) (*Workspace, error) {
	t.Helper()
	root := t.TempDir()
	work := "go 1.25.0\n\nuse (\n"
	for p, text := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if dir, ok := strings.CutSuffix(p, "/go.mod"); ok {
			work += "\t./" + dir + "\n"
		}
	}
	if err := os.WriteFile(filepath.Join(root, "go.work"), []byte(work+")\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return Load(root)
}

const core = "module example.com/r/core\n\ngo 1.25.0\n"

func adapter(version string) string {
	return "module example.com/r/adapters/a\n\ngo 1.25.0\n\nrequire example.com/r/core " + version + "\n\nreplace example.com/r/core => ../../core\n"
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string // "" for no error
	}{
		{"one released version", map[string]string{"core/go.mod": core, "adapters/a/go.mod": adapter("v0.1.0")}, ""},
		{"the v0.0.0 placeholder", map[string]string{"core/go.mod": core, "adapters/a/go.mod": adapter("v0.0.0")}, "v0.0.0 is a placeholder"},
		{"two versions", map[string]string{
			"core/go.mod":       core,
			"adapters/a/go.mod": adapter("v0.1.0"),
			"adapters/b/go.mod": "module example.com/r/adapters/b\n\ngo 1.25.0\n\nrequire example.com/r/core v0.2.0\n",
		}, "different versions"},
		{"a command's module with a replace", map[string]string{
			"core/go.mod":                 core,
			"cmd/x/go.mod":                "module example.com/r/cmd/x\n\ngo 1.25.0\n\nrequire example.com/r/core v0.1.0\n\nreplace example.com/r/core => ../../core\n",
			"cmd/x/main.go":               "package main\n\nfunc main() {}\n",
			"adapters/a/go.mod":           adapter("v0.1.0"),
			"adapters/a/a.go":             "package a\n",
			"adapters/a/x/x.go":           "package x\n",
			"adapters/a/testdata/main.go": "package main\n",
		}, "go install example.com/r/cmd/x@version"},
		{"a replace that points elsewhere", map[string]string{
			"core/go.mod":       core,
			"adapters/a/go.mod": strings.Replace(adapter("v0.1.0"), "../../core", "../core", 1),
		}, "not its directory ../../core"},
		{"a published module requiring an unpublished one", map[string]string{
			"core/go.mod":       "// Unpublished: a test.\n" + core,
			"adapters/a/go.mod": adapter("v0.1.0"),
		}, "requires example.com/r/core, which is not"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w, err := repo(t, c.files)
			if err != nil {
				t.Fatal(err)
			}
			err = w.Check()
			if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
				t.Errorf("Check() = %v, want an error with %q", err, c.want)
			}
		})
	}
}

func TestUnusedModule(t *testing.T) {
	w, err := repo(t, map[string]string{"core/go.mod": core, "adapters/a/go.mod": adapter("v0.1.0")})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(w.Root, "adapters", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.Root, "adapters", "b", "go.mod"), []byte("module example.com/r/adapters/b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.Check(); err == nil || !strings.Contains(err.Error(), "adapters/b/go.mod is a module that go.work does not use") {
		t.Errorf("Check() = %v, want adapters/b named", err)
	}
}

func TestLoadRefusesAModuleNotNamedAfterItsDirectory(t *testing.T) {
	_, err := repo(t, map[string]string{"core/go.mod": core, "adapters/a/go.mod": "module example.com/r/adapters/other\n"})
	if err == nil || !strings.Contains(err.Error(), "does not end in its directory") {
		t.Errorf("Load() = %v, want the path refused", err)
	}
}

func TestSetVersion(t *testing.T) {
	w, err := repo(t, map[string]string{"core/go.mod": core, "adapters/a/go.mod": adapter("v0.0.0")})
	if err != nil {
		t.Fatal(err)
	}
	m := w.Module("example.com/r/adapters/a")
	if changed, err := w.SetVersion(m, "v0.3.0"); err != nil || !changed {
		t.Fatalf("SetVersion = %v, %v", changed, err)
	}
	data, err := Format(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := "require example.com/r/core v0.3.0\n"; !strings.Contains(string(data), want) || !strings.Contains(string(data), "replace example.com/r/core => ../../core") {
		t.Errorf("go.mod is\n%s\nwant %q and the replace kept", data, want)
	}
	if tags := m.Tag("v0.3.0"); tags != "adapters/a/v0.3.0" {
		t.Errorf("Tag = %q", tags)
	}
}
