package javaissuer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Without what the tests need, the error names what to install and how
// to opt out, rather than skipping.
func TestMissingJavaOrMavenNamesWhatToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := Maven(); err == nil || !strings.Contains(err.Error(), "apt-get install maven") || !strings.Contains(err.Error(), SkipEnv+"=1") {
		t.Errorf("Maven() = %v", err)
	}
	if _, err := FindJDK(1000); err == nil || !strings.Contains(err.Error(), "install a JDK") {
		t.Errorf("FindJDK(1000) = %v", err)
	}
}

func TestReadJDK(t *testing.T) {
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "bin", "java"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	for release, major := range map[string]int{
		`JAVA_VERSION="25.0.3"`:              25,
		`JAVA_VERSION="17.0.15"`:             17,
		`JAVA_VERSION="1.8.0_412"`:           8,
		"IMPLEMENTOR=x\nJAVA_VERSION=\"21\"": 21,
	} {
		if err := os.WriteFile(filepath.Join(home, "release"), []byte(release+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		j, ok := readJDK(home)
		if !ok || j.Major != major {
			t.Errorf("%q: %+v %v, want major %d", release, j, ok, major)
		}
	}
	if err := os.WriteFile(filepath.Join(home, "release"), []byte(`JAVA_VERSION="21.0.1"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JAVA_HOME", home)
	if j, err := FindJDK(21); err != nil || j.Home != home {
		t.Errorf("FindJDK(21) with JAVA_HOME a JDK 21 = %+v, %v", j, err)
	}
}

func TestCacheDir(t *testing.T) {
	t.Setenv(CacheEnv, "/some/where")
	if d, err := CacheDir(); err != nil || d != "/some/where" {
		t.Errorf("CacheDir() = %q, %v", d, err)
	}
}
