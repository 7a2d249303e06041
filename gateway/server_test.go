package gateway

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type running struct {
	s    *Server
	base string
	file string
	log  *syncBuffer
}

// startServer writes text to a file and serves it on loopback until the
// test ends.
func startServer(t *testing.T, text string, iss *bearertest.Issuer) *running {
	t.Helper()
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	log := &syncBuffer{}
	s, err := NewServer(file, ServerOptions{LogOutput: log, Lookup: func(k string) (string, bool) {
		if k == "ISSUER" {
			return iss.URL(), true
		}
		return "", false
	}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &running{s: s, base: "http://" + ln.Addr().String(), file: file, log: log}
}

func get(t *testing.T, url string, h http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if h != nil {
		req.Header = h
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// serverConfig ends with the routes, so that a test can add one.
const serverConfig = `
reload:
  interval: 50ms
log:
  level: debug
` + ordersConfig

func TestServerHealthReadinessMetrics(t *testing.T) {
	iss := newIssuer(t)
	r := startServer(t, serverConfig, iss)
	if code, body := get(t, r.base+"/healthz", nil); code != 200 || body != "ok\n" {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if code, body := get(t, r.base+"/readyz", nil); code != 200 {
		t.Fatalf("readyz with the issuer up: %d %q", code, body)
	}
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	if code, _ := get(t, r.base+"/auth", traefik("GET", "api.example.com", "/orders/1", http.Header{"Authorization": {"Bearer " + tok}})); code != 200 {
		t.Fatalf("check: %d", code)
	}
	get(t, r.base+"/auth", traefik("GET", "api.example.com", "/orders/1", nil))
	_, metrics := get(t, r.base+"/metrics", nil)
	for _, want := range []string{`bouncer_gateway_checks_total{bouncer_front="forward_auth",bouncer_route="read orders",http_response_status_code="200"`, `bouncer_requests_total{`, `bouncer_outcome="refused"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s:\n%s", want, metrics)
		}
	}
	if strings.Contains(r.log.String(), tok) {
		t.Error("the log holds a token")
	}

	down := newIssuer(t)
	down.SetDown(true)
	r2 := startServer(t, serverConfig, down)
	if code, body := get(t, r2.base+"/readyz", nil); code != 503 || !strings.Contains(body, "not ready") {
		t.Fatalf("readyz with the issuer down: %d %q", code, body)
	}
}

func TestServerReloadsOnFileChange(t *testing.T) {
	iss := newIssuer(t)
	r := startServer(t, serverConfig, iss)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	h := http.Header{"Authorization": {"Bearer " + tok}}
	if code, _ := get(t, r.base+"/auth", traefik("GET", "api.example.com", "/reports/1", h)); code != 403 {
		t.Fatalf("before: %d", code)
	}
	old, done := r.s.acquire()
	// A request in flight on the old configuration keeps it open.
	write(t, r.file, serverConfig+"  - path-prefix: /reports\n")
	eventually(t, "the new route", func() bool {
		code, _ := get(t, r.base+"/auth", traefik("GET", "api.example.com", "/reports/1", h))
		return code == 200
	})
	if old.closed.Load() {
		t.Fatal("the old configuration was closed while a request used it")
	}
	done()
	if !old.closed.Load() {
		t.Fatal("the old configuration was not closed once unused")
	}

	// A bad file keeps the running configuration, and says why.
	write(t, r.file, serverConfig+"  - path-prefix: /reports\n    methods: [get]\n")
	eventually(t, "the refusal in the log", func() bool {
		return strings.Contains(r.log.String(), `"the configuration was not reloaded`) || strings.Contains(r.log.String(), "the configuration was not reloaded")
	})
	if !strings.Contains(r.log.String(), "methods[0]") {
		t.Errorf("the log does not say why: %s", r.log.String())
	}
	if code, _ := get(t, r.base+"/auth", traefik("GET", "api.example.com", "/reports/1", h)); code != 200 {
		t.Fatalf("after a bad file: %d", code)
	}
}

// Requests keep being answered while configurations come and go.
func TestServerReloadDropsNoRequest(t *testing.T) {
	iss := newIssuer(t)
	r := startServer(t, serverConfig, iss)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	h := traefik("GET", "api.example.com", "/orders/1", http.Header{"Authorization": {"Bearer " + tok}})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []int
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if code, _ := get(t, r.base+"/auth", h); code != 200 {
					mu.Lock()
					failures = append(failures, code)
					mu.Unlock()
				}
			}
		}()
	}
	for i := range 20 {
		write(t, r.file, serverConfig+strings.Repeat("\n", i%2))
		if err := r.s.Reload(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d requests failed during reloads: %v", len(failures), failures[:min(len(failures), 10)])
	}
}

func TestRunReloadsOnSIGHUP(t *testing.T) {
	iss := newIssuer(t)
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	write(t, file, ordersConfig+"listen:\n  http: 127.0.0.1:0\nreload:\n  watch: false\n")
	log := &syncBuffer{}
	s, err := NewServer(file, ServerOptions{LogOutput: log, Lookup: func(string) (string, bool) { return iss.URL(), true }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	eventually(t, "serving", func() bool { return strings.Contains(log.String(), "gateway: serving") })
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reload", func() bool { return strings.Contains(log.String(), "configuration reloaded") })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "gateway: stopped") {
		t.Error("no graceful stop logged")
	}
}

func write(t *testing.T, file, text string) {
	t.Helper()
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

// A new file whose issuers cannot be reached, while the running ones can,
// is not swapped in: the running configuration keeps answering.
func TestServerReloadKeepsReachableIssuers(t *testing.T) {
	iss := newIssuer(t)
	r := startServer(t, serverConfig, iss)
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	h := traefik("GET", "api.example.com", "/orders/1", http.Header{"Authorization": {"Bearer " + tok}})
	if code, _ := get(t, r.base+"/auth", h); code != 200 {
		t.Fatalf("before: %d", code)
	}
	down := newIssuer(t)
	down.SetDown(true)
	write(t, r.file, strings.Replace(serverConfig, "${ISSUER}", down.URL(), 1))
	r.s.opts.ReadyTimeout = 2 * time.Second
	err := r.s.Reload(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot be reached") || !strings.Contains(r.log.String(), "the running one stays") {
		t.Fatalf("reload: %v\n%s", err, r.log.String())
	}
	if code, _ := get(t, r.base+"/auth", h); code != 200 {
		t.Fatalf("after: %d", code)
	}
}

// A stop lets the check in flight finish, and readiness turns 503.
func TestServerStopsGracefully(t *testing.T) {
	iss := newIssuer(t)
	release := make(chan struct{})
	iss.SetJWKSHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		iss.DefaultJWKSHandler().ServeHTTP(w, r)
	}))
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	write(t, file, ordersConfig)
	s, err := NewServer(file, ServerOptions{LogOutput: io.Discard, Lookup: func(string) (string, bool) { return iss.URL(), true }})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln, nil) }()
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	inFlight := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, base+"/auth", nil)
		req.Header = traefik("GET", "api.example.com", "/orders/1", http.Header{"Authorization": {"Bearer " + tok}})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inFlight <- -1
			return
		}
		resp.Body.Close()
		inFlight <- resp.StatusCode
	}()
	eventually(t, "the check waiting for the issuer's keys", func() bool { return iss.JWKSFetches() > 0 })
	cancel()
	eventually(t, "readiness to turn 503", func() bool { return s.draining.Load() })
	close(release)
	if code := <-inFlight; code != 200 {
		t.Fatalf("the check in flight got %d", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// The gRPC listener: Envoy's service, and the standard health service
// Envoy's health checks use.
func TestServerGRPC(t *testing.T) {
	iss := newIssuer(t)
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	write(t, file, ordersConfig)
	s, err := NewServer(file, ServerOptions{LogOutput: io.Discard, Lookup: func(string) (string, bool) { return iss.URL(), true }})
	if err != nil {
		t.Fatal(err)
	}
	hl, _ := net.Listen("tcp", "127.0.0.1:0")
	gl, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, hl, gl) }()
	defer func() { cancel(); <-done }()
	conn, err := grpc.NewClient(gl.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hr, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{Service: "envoy.service.auth.v3.Authorization"})
	if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", hr, err)
	}
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read"})
	resp, err := authv3.NewAuthorizationClient(conn).Check(context.Background(), checkRequest("GET", "api.example.com", "/orders/1", map[string]string{"authorization": "Bearer " + tok}))
	if err != nil || resp.GetOkResponse() == nil {
		t.Fatalf("check: %v %v", resp, err)
	}
}
