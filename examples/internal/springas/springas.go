// Package springas runs a real Spring Authorization Server for bouncer's
// tests: the Spring Boot application in testdata/spring-authorization-server
// (pinned Boot version, sources committed), built with Maven into a cache
// outside the repository and rebuilt only when its sources change, started
// on a free port on 127.0.0.1 with the set-up guide's
// examples/spring/application.yml and the tests' own clients.
//
// Requirements: Maven and a JDK 17 or later. `make deps` builds the
// application ahead of the tests.
package springas

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/bouncer-go/bouncer/examples/internal/javaissuer"
)

// BootVersion is the Spring Boot version of the application's pom.xml,
// whose Spring Security (7.0) holds Spring Authorization Server.
const BootVersion = "4.0.7"

// MinJava is the oldest JDK Spring Boot 4 runs on.
const MinJava = 17

// StartTimeout bounds a start: a few seconds on idle cores, over a
// minute on a busy machine.
const StartTimeout = 5 * time.Minute

const appDir = "testdata/spring-authorization-server"

// The clients the application registers. CountryClientID is the guide's
// (examples/spring/application.yml); the others are the tests'
// (testdata/spring-authorization-server/src/main/resources/application.yml).
const (
	// CountryClientID gets JWTs (client_secret_basic, scope country.read).
	CountryClientID     = "country-client"
	CountryClientSecret = "demo-secret-regenerate-me"
	// PostClientID gets JWTs with client_secret_post.
	PostClientID     = "post-client"
	PostClientSecret = "post-secret"
	// LimitedClientID may ask only for customer.read; its tokens name
	// country-api as audience all the same.
	LimitedClientID     = "limited-client"
	LimitedClientSecret = "limited-secret"
	// OpaqueClientID gets reference (opaque) tokens.
	OpaqueClientID     = "opaque-client"
	OpaqueClientSecret = "opaque-secret"
	// APIClientID is the API's own client, which introspects.
	APIClientID     = "country-api"
	APIClientSecret = "country-api-secret"
	// Audience is what the guide's customizer puts in aud for tokens
	// that carry country.read.
	Audience = "country-api"
)

// App is the built application.
type App struct {
	Jar   string
	JDK   javaissuer.JDK
	guide string // examples/spring/application.yml
	Built bool   // built by this call, rather than found in the cache
	Took  time.Duration
}

// Build returns the application's jar, building it with Maven into the
// cache first unless a build of the same sources is there. log receives
// progress.
func Build(ctx context.Context, log io.Writer) (*App, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	jdk, err := javaissuer.FindJDK(MinJava)
	if err != nil {
		return nil, fmt.Errorf("spring authorization server: %w", err)
	}
	src := filepath.Join(root, filepath.FromSlash(appDir))
	sum, err := hashTree(src)
	if err != nil {
		return nil, err
	}
	cache, err := javaissuer.CacheDir()
	if err != nil {
		return nil, err
	}
	out := filepath.Join(cache, "spring-authorization-server-"+sum[:16])
	app := &App{Jar: filepath.Join(out, "country-issuer.jar"), JDK: jdk, guide: filepath.Join(root, "examples", "spring", "application.yml")}
	if _, err := os.Stat(app.Jar); err == nil {
		return app, nil
	}
	mvn, err := javaissuer.Maven()
	if err != nil {
		return nil, fmt.Errorf("spring authorization server: %w", err)
	}
	fmt.Fprintf(log, "spring authorization server: building %s with Maven into %s\n", src, out)
	began := time.Now()
	tmp := out + ".building"
	os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, mvn, "-B", "-q", "-f", filepath.Join(src, "pom.xml"), "package", "-DskipTests", "-Dbouncer.build.dir="+tmp)
	cmd.Env = append(os.Environ(), "JAVA_HOME="+jdk.Home)
	if o, err := javaissuer.Run(cmd); err != nil {
		os.RemoveAll(tmp)
		return nil, fmt.Errorf("spring authorization server: building: %w\n%s", err, o)
	}
	if err := os.Rename(tmp, out); err != nil {
		if _, statErr := os.Stat(app.Jar); statErr != nil {
			return nil, err
		}
	}
	app.Built, app.Took = true, time.Since(began)
	return app, nil
}

// hashTree hashes the names and contents of every file under dir but
// build outputs, so that a change of the sources means a new build.
func hashTree(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "target" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, f)
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// repoRoot walks up from the working directory to the directory holding
// go.work.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(appDir), "pom.xml")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("spring authorization server: no %s/pom.xml in %s or a parent", appDir, wd)
		}
		dir = parent
	}
}

// Server is a running Spring Authorization Server.
type Server struct {
	// Issuer is its issuer identifier, http://127.0.0.1:<port>, set with
	// spring.security.oauth2.authorizationserver.issuer.
	Issuer  string
	Port    int
	Started time.Duration
	app     *App
	proc    *javaissuer.Process
}

// Start starts the application on port (0: a free one) and waits until it
// serves its metadata. Every start generates a new signing key.
func (a *App) Start(port int) (*Server, error) {
	if port == 0 {
		p, err := javaissuer.FreePort()
		if err != nil {
			return nil, err
		}
		port = p
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.Command(a.JDK.Java(), "-XX:TieredStopAtLevel=1", "-Xmx512m", "-jar", a.Jar,
		"--spring.config.additional-location=file:"+a.guide,
		fmt.Sprintf("--server.port=%d", port),
		"--server.address=127.0.0.1",
		"--spring.security.oauth2.authorizationserver.issuer="+issuer,
		"--spring.main.banner-mode=off",
	)
	began := time.Now()
	proc, err := javaissuer.Start("spring authorization server", cmd, issuer+"/.well-known/oauth-authorization-server", StartTimeout)
	if err != nil {
		return nil, err
	}
	return &Server{Issuer: issuer, Port: port, Started: time.Since(began), app: a, proc: proc}, nil
}

// TokenURL is the token endpoint.
func (s *Server) TokenURL() string { return s.Issuer + "/oauth2/token" }

// IntrospectionURL is the introspection endpoint (RFC 7662).
func (s *Server) IntrospectionURL() string { return s.Issuer + "/oauth2/introspect" }

// RevocationURL is the revocation endpoint (RFC 7009).
func (s *Server) RevocationURL() string { return s.Issuer + "/oauth2/revoke" }

// Output is what the server printed.
func (s *Server) Output() *javaissuer.Output { return s.proc.Output() }

// Stop stops the server.
func (s *Server) Stop() { s.proc.Stop() }
