package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The gateway's live tests run `bouncer serve` as its command runs, with
// the proxies' configurations from deploy/ as the README gives them:
// nginx from Debian's package and Caddy built from its module, in front
// of a small upstream, against a real issuer.

// repoRoot is the directory holding go.work.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.work above the working directory")
		}
		dir = parent
	}
}

var (
	bouncerOnce sync.Once
	bouncerBin  string
	bouncerErr  error
)

// bouncerCommand builds cmd/bouncer once per test binary.
func bouncerCommand(t testing.TB) string {
	t.Helper()
	bouncerOnce.Do(func() {
		dir, err := os.MkdirTemp("", "bouncer-cmd")
		if err != nil {
			bouncerErr = err
			return
		}
		bouncerBin = filepath.Join(dir, "bouncer")
		cmd := exec.Command("go", "build", "-o", bouncerBin, "./cmd/bouncer")
		cmd.Dir = repoRoot(t)
		if out, err := cmd.CombinedOutput(); err != nil {
			bouncerErr = fmt.Errorf("go build ./cmd/bouncer: %v\n%s", err, out)
		}
	})
	if bouncerErr != nil {
		t.Fatal(bouncerErr)
	}
	return bouncerBin
}

// caddyVersion is the Caddy module testdata/caddy requires.
func caddyVersion(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "testdata", "caddy", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github\.com/caddyserver/caddy/v2 (v\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("testdata/caddy/go.mod requires no Caddy")
	}
	return string(m[1])
}

// CaddyPath is where testdata/caddy is built, outside the repository and
// reused between runs: `make caddy` (which .ci/run calls) builds it, and
// the tests do when it is missing.
func caddyPath(t testing.TB) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(cache, "bouncer", "caddy-"+caddyVersion(t), "caddy")
}

func caddyCommand(t testing.TB) string {
	t.Helper()
	bin := caddyPath(t)
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Logf("building Caddy into %s (make caddy does this ahead of the tests)", bin)
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Join(repoRoot(t), "testdata", "caddy")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building Caddy: %v\n%s", err, out)
	}
	return bin
}

func nginxCommand(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if bin, err := exec.LookPath(p); err == nil {
			return bin
		}
	}
	t.Fatal("nginx is not installed (Debian: apt-get install nginx; .ci/run installs it)")
	return ""
}

// freePort is a loopback address free a moment ago, for servers whose
// configuration must name their port.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// process runs a server for the test's duration, its output logged when
// the test fails.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	output strings.Builder
	lines  chan string
}

func (p *process) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.output.Len() < 1<<20 {
		p.output.Write(b)
	}
	return len(b), nil
}

func (p *process) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

func start(t testing.TB, name string, env []string, bin string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), lines: make(chan string, 1024)}
	p.cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	p.cmd.Stdout = p
	p.cmd.Stderr = io.MultiWriter(p, pw)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		s := bufio.NewScanner(pr)
		s.Buffer(make([]byte, 64<<10), 1<<20)
		for s.Scan() {
			select {
			case p.lines <- s.Text():
			default:
			}
		}
	}()
	exited := make(chan struct{})
	go func() { _ = p.cmd.Wait(); pw.Close(); close(exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.String())
		}
	})
	return p
}

// waitListening waits for a TCP listener at addr.
func waitListening(t testing.TB, name, addr string, p *process) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) || p.cmd.ProcessState != nil {
			t.Fatalf("%s is not listening on %s: %v\n%s", name, addr, err, p.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startBouncer runs `bouncer serve --config` on text and returns the
// address its HTTP listener says it serves on.
func startBouncer(t testing.TB, text string, env ...string) (addr string, p *process) {
	t.Helper()
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p = start(t, "bouncer serve", env, bouncerCommand(t), "serve", "--config", file)
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line := <-p.lines:
			var l struct {
				Msg  string `json:"msg"`
				HTTP string `json:"http"`
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "gateway: serving" {
				return l.HTTP, p
			}
		case <-deadline:
			t.Fatalf("bouncer serve did not start:\n%s", p.String())
		}
	}
}

// deployFile is a configuration of deploy/ with its addresses replaced.
func deployFile(t testing.TB, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(text, replace[i]) {
			t.Fatalf("deploy/%s has no %q", name, replace[i])
		}
		text = strings.ReplaceAll(text, replace[i], replace[i+1])
	}
	return text
}

// startNginx runs nginx with deploy/nginx/bouncer.conf, listening at the
// returned address.
func startNginx(t testing.TB, bouncer, upstream string) string {
	t.Helper()
	dir := t.TempDir()
	addr := freePort(t)
	site := deployFile(t, "nginx/bouncer.conf", "127.0.0.1:9191", bouncer, "127.0.0.1:8080", upstream, "listen 80;", "listen "+addr+";")
	if err := os.WriteFile(filepath.Join(dir, "bouncer.conf"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;" // workers must reach the test's private directory
	}
	main := fmt.Sprintf(`%s
worker_processes 1;
daemon off;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log notice;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path %[2]s/client_body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/bouncer.conf;
}
`, user, dir)
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "nginx", nil, nginxCommand(t), "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf)
	waitListening(t, "nginx", addr, p)
	t.Cleanup(func() {
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "error.log")); err == nil {
				t.Logf("nginx error.log:\n%s", b)
			}
		}
	})
	return addr
}

// startCaddy runs Caddy with deploy/caddy/Caddyfile.
func startCaddy(t testing.TB, bouncer, upstream string) string {
	t.Helper()
	dir := t.TempDir()
	addr := freePort(t)
	file := filepath.Join(dir, "Caddyfile")
	text := deployFile(t, "caddy/Caddyfile", "127.0.0.1:9191", bouncer, "127.0.0.1:8080", upstream, "http://:80", "http://"+addr)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "caddy", []string{"HOME=" + dir, "XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir},
		caddyCommand(t), "run", "--config", file, "--adapter", "caddyfile")
	waitListening(t, "caddy", addr, p)
	return addr
}

// seen is what the upstream received.
type seen struct {
	Method string      `json:"method"`
	URI    string      `json:"uri"`
	Header http.Header `json:"header"`
}

// startUpstream is the service behind the proxy: it answers 200 with
// what it received.
func startUpstream(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(seen{r.Method, r.RequestURI, r.Header})
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// call sends a request to base+path with the headers given.
func call(t testing.TB, method, url string, h http.Header) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(body)}
}
