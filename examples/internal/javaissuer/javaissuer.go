// Package javaissuer holds what bouncer's tests need to run the issuers
// that are Java programs, Keycloak and Spring Authorization Server: a JDK
// of a given version, Maven, a cache outside the repository for what Maven
// downloads and builds, and a server process that is started on a free
// loopback port, waited for and stopped.
//
// The tests that use them do not skip when Java or Maven is missing: they
// fail and name what to install. A contributor without Java may set
// BOUNCER_SKIP_JAVA=1, which skips them with that reason; CI never sets it.
package javaissuer

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// SkipEnv names the environment variable that, set to 1, skips the tests
// that need Java (Keycloak, Spring Authorization Server) instead of failing
// them when Java or Maven is missing.
const SkipEnv = "BOUNCER_SKIP_JAVA"

// CacheEnv names the environment variable that moves the cache (default:
// the user's cache directory, e.g. ~/.cache/bouncer).
const CacheEnv = "BOUNCER_CACHE"

// Install says what a machine needs for these tests, for error messages.
const Install = "install a JDK (Keycloak: 21 or later, e.g. Temurin 25; Spring Authorization Server: 17 or later; Debian: apt-get install openjdk-17-jdk-headless) and Maven (Debian: apt-get install maven), then run `make deps`; or set " + SkipEnv + "=1 to skip these tests"

// Skipped reports whether the tests that need Java are to be skipped, and
// skips t if so, saying why.
func Skipped(t testing.TB) bool {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%s=1: the tests against Keycloak and Spring Authorization Server are skipped", SkipEnv)
		return true
	}
	return false
}

// CacheDir is where downloaded distributions and builds are kept between
// runs: $BOUNCER_CACHE, or bouncer in the user's cache directory.
func CacheDir() (string, error) {
	if d := os.Getenv(CacheEnv); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache directory (set %s): %w", CacheEnv, err)
	}
	return filepath.Join(d, "bouncer"), nil
}

// JDK is an installed Java Development Kit.
type JDK struct {
	Home    string // JAVA_HOME
	Version string // e.g. "25.0.3"
	Major   int
}

// Java is the path of the JDK's java command.
func (j JDK) Java() string { return filepath.Join(j.Home, "bin", "java") }

func (j JDK) String() string { return fmt.Sprintf("Java %s (%s)", j.Version, j.Home) }

// FindJDK returns $JAVA_HOME's JDK if it is of at least version min, or
// else the newest such JDK among the java on PATH and the JDKs under
// /usr/lib/jvm (where Debian's packages and the Temurin install put them).
func FindJDK(min int) (JDK, error) {
	if home := os.Getenv("JAVA_HOME"); home != "" {
		if j, ok := readJDK(home); ok && j.Major >= min {
			return j, nil
		}
	}
	seen := map[string]bool{}
	var found []JDK
	consider := func(home string) {
		if home == "" {
			return
		}
		if r, err := filepath.EvalSymlinks(home); err == nil {
			home = r
		}
		if seen[home] {
			return
		}
		seen[home] = true
		if j, ok := readJDK(home); ok {
			found = append(found, j)
		}
	}
	consider(os.Getenv("JAVA_HOME"))
	if java, err := exec.LookPath("java"); err == nil {
		if r, err := filepath.EvalSymlinks(java); err == nil {
			consider(filepath.Dir(filepath.Dir(r)))
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/jvm/*")
	for _, d := range dirs {
		consider(d)
	}
	sort.SliceStable(found, func(a, b int) bool { return found[a].Major > found[b].Major })
	var have []string
	for _, j := range found {
		if j.Major >= min {
			return j, nil
		}
		have = append(have, j.String())
	}
	if len(have) == 0 {
		return JDK{}, fmt.Errorf("no JDK found (JAVA_HOME, java on PATH, /usr/lib/jvm): %s", Install)
	}
	return JDK{}, fmt.Errorf("no JDK %d or later found, only %s: %s", min, strings.Join(have, ", "), Install)
}

// readJDK reads a JDK's version from the release file every JDK has.
func readJDK(home string) (JDK, bool) {
	if _, err := os.Stat(filepath.Join(home, "bin", "java")); err != nil {
		return JDK{}, false
	}
	f, err := os.Open(filepath.Join(home, "release"))
	if err != nil {
		return JDK{}, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "JAVA_VERSION=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"`)
		major, _, _ := strings.Cut(v, ".")
		if major == "1" { // 1.8.0_…
			_, rest, _ := strings.Cut(v, ".")
			major, _, _ = strings.Cut(rest, ".")
		}
		n, err := strconv.Atoi(major)
		if err != nil {
			return JDK{}, false
		}
		return JDK{Home: home, Version: v, Major: n}, true
	}
	return JDK{}, false
}

// Maven returns the path of mvn.
func Maven() (string, error) {
	mvn, err := exec.LookPath("mvn")
	if err != nil {
		return "", fmt.Errorf("no mvn on PATH: %s", Install)
	}
	return mvn, nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// a server that takes its port as a number.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
