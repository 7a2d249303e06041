// Package keycloak runs a real Keycloak for bouncer's tests: the server
// distribution Keycloak publishes on Maven Central
// (org.keycloak:keycloak-quarkus-dist), fetched with Maven into a cache
// outside the repository and reused between runs, started in development
// mode (start-dev) with its embedded in-memory database on a free port on
// 127.0.0.1, and driven through its admin REST API and its admin CLI
// (kcadm.sh).
//
// Requirements: Maven, and a JDK (21 or later preferred; Keycloak
// deprecated running on 17, which still works for this version). `make
// deps` fetches and prepares the distribution ahead of the tests.
package keycloak

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/bouncer-go/bouncer/examples/internal/javaissuer"
)

// Version is the Keycloak release the tests run.
const Version = "26.7.3"

// Artifact is the Maven coordinate of its server distribution.
const Artifact = "org.keycloak:keycloak-quarkus-dist:" + Version + ":tar.gz"

// PreferredJava is the oldest JDK Keycloak supports running on; older
// ones (17) are used only when no newer one is installed.
const PreferredJava = 21

// oldestJava is the oldest JDK Keycloak still starts on.
const oldestJava = 17

// StartTimeout bounds a start: the first one of a fresh distribution
// includes Quarkus's build step, about 30 s on two idle cores, then the
// start itself, about 20 s; both take several times longer on a machine
// busy with other work.
const StartTimeout = 8 * time.Minute

// Dist is an unpacked distribution in the cache.
type Dist struct {
	Home string // the directory holding bin/kc.sh
	JDK  javaissuer.JDK
}

// FindJDK returns the JDK Keycloak runs on: the newest installed, 21 or
// later if there is one, else 17.
func FindJDK() (javaissuer.JDK, error) {
	j, err := javaissuer.FindJDK(PreferredJava)
	if err == nil {
		return j, nil
	}
	if j, err17 := javaissuer.FindJDK(oldestJava); err17 == nil {
		return j, nil
	}
	return javaissuer.JDK{}, fmt.Errorf("keycloak %s: %w", Version, err)
}

// Prepare returns the cached distribution, downloading it through Maven
// and unpacking it first if it is not there yet. Progress goes to log.
func Prepare(ctx context.Context, log io.Writer) (*Dist, error) {
	jdk, err := FindJDK()
	if err != nil {
		return nil, err
	}
	cache, err := javaissuer.CacheDir()
	if err != nil {
		return nil, err
	}
	home := filepath.Join(cache, "keycloak-"+Version)
	if _, err := os.Stat(filepath.Join(home, "bin", "kc.sh")); err == nil {
		return &Dist{Home: home, JDK: jdk}, nil
	}
	mvn, err := javaissuer.Maven()
	if err != nil {
		return nil, fmt.Errorf("keycloak %s: %w", Version, err)
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(cache, ".keycloak-"+Version+"-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(log, "keycloak: fetching %s with Maven\n", Artifact)
	if out, err := javaissuer.Run(exec.CommandContext(ctx, mvn, "-B", "-q", "dependency:copy",
		"-Dartifact="+Artifact, "-DoutputDirectory="+tmp)); err != nil {
		return nil, fmt.Errorf("keycloak: fetching the distribution: %w\n%s", err, out)
	}
	archive := filepath.Join(tmp, "keycloak-quarkus-dist-"+Version+".tar.gz")
	fmt.Fprintf(log, "keycloak: unpacking into %s\n", home)
	if out, err := javaissuer.Run(exec.CommandContext(ctx, "tar", "-xzf", archive, "-C", tmp)); err != nil {
		return nil, fmt.Errorf("keycloak: unpacking: %w\n%s", err, out)
	}
	// Another run may have unpacked it meanwhile: its copy is as good.
	if err := os.Rename(filepath.Join(tmp, "keycloak-"+Version), home); err != nil {
		if _, statErr := os.Stat(filepath.Join(home, "bin", "kc.sh")); statErr != nil {
			return nil, fmt.Errorf("keycloak: %w", err)
		}
	}
	return &Dist{Home: home, JDK: jdk}, nil
}

// Server is a running Keycloak.
type Server struct {
	// URL is where it listens, e.g. http://127.0.0.1:41234; realm R's
	// issuer is URL + "/realms/R".
	URL string
	// Admin is the bootstrap administrator's REST client.
	Admin *Admin
	// AdminUser and AdminPassword are its credentials in realm master.
	AdminUser, AdminPassword string

	dist    *Dist
	home    string // this run's home: the distribution, with its own data
	proc    *javaissuer.Process
	Started time.Duration // how long the start took
}

// Start starts Keycloak in development mode on a free loopback port and
// waits until it serves. Stop ends it.
func Start(ctx context.Context, log io.Writer) (*Server, error) {
	dist, err := Prepare(ctx, log)
	if err != nil {
		return nil, err
	}
	home, err := runHome(dist.Home)
	if err != nil {
		return nil, err
	}
	port, err := javaissuer.FreePort()
	if err != nil {
		os.RemoveAll(home)
		return nil, err
	}
	pw := make([]byte, 16)
	_, _ = rand.Read(pw)
	s := &Server{
		URL:           fmt.Sprintf("http://127.0.0.1:%d", port),
		AdminUser:     "admin",
		AdminPassword: hex.EncodeToString(pw),
		dist:          dist,
		home:          home,
	}
	cmd := exec.Command(filepath.Join(home, "bin", "kc.sh"), "start-dev",
		"--http-host=127.0.0.1", fmt.Sprintf("--http-port=%d", port), "--db=dev-mem")
	cmd.Env = append(os.Environ(),
		"JAVA_HOME="+dist.JDK.Home,
		"KC_BOOTSTRAP_ADMIN_USERNAME="+s.AdminUser,
		"KC_BOOTSTRAP_ADMIN_PASSWORD="+s.AdminPassword,
		// Keycloak sizes its heap by the machine's memory; a test needs
		// far less.
		"JAVA_OPTS_KC_HEAP=-Xms128m -Xmx1g",
		// C1 alone halves the CPU a start takes (about 24 s instead of
		// 44 s); a test server never runs long enough to need C2.
		"JAVA_OPTS_APPEND=-XX:TieredStopAtLevel=1",
	)
	fmt.Fprintf(log, "keycloak: starting %s on %s with %s\n", Version, s.URL, dist.JDK)
	began := time.Now()
	s.proc, err = javaissuer.Start("keycloak", cmd, s.URL+"/realms/master", StartTimeout)
	if err != nil {
		os.RemoveAll(home)
		return nil, err
	}
	s.Started = time.Since(began)
	s.Admin = newAdmin(s.URL, s.AdminUser, s.AdminPassword)
	// The distribution now holds the build start-dev needs (Quarkus
	// re-builds it on the first start with these options).
	_ = os.WriteFile(filepath.Join(dist.Home, builtMarker), []byte(Version+"\n"), 0o644)
	return s, nil
}

// builtMarker, in the distribution, says a start with the tests' options
// has run, so that its build is done.
const builtMarker = ".bouncer-start-dev-built"

// Warm prepares the distribution and, the first time, starts and stops it
// once, so that Quarkus's build step (half a minute or more) happens here
// rather than in the first test.
func Warm(ctx context.Context, log io.Writer) error {
	dist, err := Prepare(ctx, log)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dist.Home, builtMarker)); err == nil {
		return nil
	}
	fmt.Fprintln(log, "keycloak: first start, to build the distribution for start-dev")
	s, err := Start(ctx, log)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "keycloak: built and started in %v\n", s.Started.Round(time.Second))
	s.Stop()
	return nil
}

// Home is the directory of this run's bin/kc.sh and bin/kcadm.sh.
func (s *Server) Home() string { return s.home }

// JDK is the JDK it runs on.
func (s *Server) JDK() javaissuer.JDK { return s.dist.JDK }

// Issuer is the issuer of realm.
func (s *Server) Issuer(realm string) string { return s.URL + "/realms/" + realm }

// Output is what the server printed.
func (s *Server) Output() *javaissuer.Output { return s.proc.Output() }

// Stop stops the server and removes this run's data.
func (s *Server) Stop() {
	s.proc.Stop()
	s.Admin.close()
	os.RemoveAll(s.home)
}

// runHome lays out a home directory for one run: the distribution's
// scripts copied (kc.sh takes its home from where it lies), everything
// else linked, and a data directory of its own, so that runs share the
// distribution and its build but never a database or transaction log.
func runHome(dist string) (string, error) {
	home, err := os.MkdirTemp("", "bouncer-keycloak-")
	if err != nil {
		return "", err
	}
	fail := func(err error) (string, error) {
		os.RemoveAll(home)
		return "", fmt.Errorf("keycloak: laying out %s: %w", home, err)
	}
	for _, d := range []string{"conf", "lib", "providers", "themes"} {
		if err := os.Symlink(filepath.Join(dist, d), filepath.Join(home, d)); err != nil {
			return fail(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(home, "bin"), 0o755); err != nil {
		return fail(err)
	}
	entries, err := os.ReadDir(filepath.Join(dist, "bin"))
	if err != nil {
		return fail(err)
	}
	for _, e := range entries {
		src, dst := filepath.Join(dist, "bin", e.Name()), filepath.Join(home, "bin", e.Name())
		if e.IsDir() {
			err = os.Symlink(src, dst)
		} else {
			err = copyFile(src, dst)
		}
		if err != nil {
			return fail(err)
		}
	}
	return home, nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, info.Mode().Perm())
}

// Kcadm runs script, a shell script that calls Keycloak's admin CLI as
// $KCADM, against the server as its administrator, the way
// examples/keycloak/kcadm.sh expects: KCADM, KEYCLOAK_URL, KC_ADMIN and
// KC_ADMIN_PASSWORD set, and a HOME of its own for kcadm's session file.
// env adds variables. It returns what the script printed.
func (s *Server) Kcadm(ctx context.Context, script string, env ...string) (string, error) {
	dir, err := os.MkdirTemp("", "bouncer-kcadm-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Env = append(os.Environ(),
		"HOME="+dir,
		"JAVA_HOME="+s.dist.JDK.Home,
		"KCADM="+filepath.Join(s.home, "bin", "kcadm.sh"),
		"KEYCLOAK_URL="+s.URL,
		"KC_ADMIN="+s.AdminUser,
		"KC_ADMIN_PASSWORD="+s.AdminPassword,
		// Each kcadm.sh command is a short-lived JVM: C1 alone starts it
		// faster.
		"KC_OPTS=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
	)
	cmd.Env = append(cmd.Env, env...)
	var out javaissuer.Output
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("keycloak: %s: %w\n%s", script, err, out.String())
	}
	return out.String(), nil
}

// ErrNoClient is returned for a client id the realm does not have.
var ErrNoClient = errors.New("keycloak: no such client")
