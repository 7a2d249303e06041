package keycloak

import (
	"os"
	"path/filepath"
	"testing"
)

// A run's home shares the distribution but not its data: kc.sh is a copy
// (it takes its home from where it lies), the rest are links, and data is
// the run's own.
func TestRunHome(t *testing.T) {
	dist := t.TempDir()
	for _, d := range []string{"bin/client", "conf", "lib/quarkus", "providers", "themes", "data"} {
		if err := os.MkdirAll(filepath.Join(dist, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dist, "bin", "kc.sh"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	home, err := runHome(dist)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(home)
	info, err := os.Lstat(filepath.Join(home, "bin", "kc.sh"))
	if err != nil || !info.Mode().IsRegular() || info.Mode().Perm()&0o100 == 0 {
		t.Errorf("bin/kc.sh: %v %v; want an executable copy", info, err)
	}
	for _, d := range []string{"conf", "lib", "providers", "themes", "bin/client"} {
		if target, err := os.Readlink(filepath.Join(home, d)); err != nil || target != filepath.Join(dist, d) {
			t.Errorf("%s: %q %v; want a link to the distribution's", d, target, err)
		}
	}
	if _, err := os.Lstat(filepath.Join(home, "data")); !os.IsNotExist(err) {
		t.Errorf("data: %v; want none, for Keycloak to make", err)
	}
}
