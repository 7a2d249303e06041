package integration

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// BenchmarkGateway measures what bouncer serve adds to a request through
// nginx and through Caddy: requests per second and the 50th and 99th
// percentile latency with bouncer serve deciding, against the same proxy
// passing requests straight to the upstream, in interleaved rounds so
// that the machine's load weighs on both alike. The token is the same
// throughout, as a client's is for its lifetime. Run with -benchtime 1x
// (make bench).
func BenchmarkGateway(b *testing.B) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	tok, err := iss.Mint(map[string]any{"scope": "country.read", "client_id": "bench"})
	if err != nil {
		b.Fatal(err)
	}
	bouncer, _ := startBouncer(b, `
listen: {http: 127.0.0.1:0}
issuers:
  - issuer-uri: ${ISSUER}
    audiences: [country-api]
routes:
  - path-prefix: /country
    policy: {scopes: [country.read]}
telemetry: {metrics: false}
log: {level: info}
`, "ISSUER="+iss.URL())
	upstream := startUpstream(b)
	targets := []struct{ name, base string }{
		{"nginx+bouncer", "http://" + startNginx(b, bouncer, upstream)},
		{"nginx", "http://" + startPlainNginx(b, upstream)},
		{"caddy+bouncer", "http://" + startCaddy(b, bouncer, upstream)},
		{"caddy", "http://" + startPlainCaddy(b, upstream)},
	}
	const (
		rounds      = 5
		perRound    = 2000
		concurrency = 8
	)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, Proxy: nil}}
	defer client.CloseIdleConnections()
	lat := map[string][]time.Duration{}
	took := map[string]time.Duration{}
	h := http.Header{"Authorization": {"Bearer " + tok}}
	for _, tg := range targets { // warm up: keys fetched, connections open
		if r := benchLoad(client, tg.base+"/country/AUS", h, 200, concurrency); r.failed > 0 {
			b.Fatalf("%s: %d requests failed", tg.name, r.failed)
		}
	}
	b.ResetTimer()
	for round := range rounds {
		for i := range targets {
			tg := targets[(i+round)%len(targets)]
			r := benchLoad(client, tg.base+"/country/AUS", h, perRound, concurrency)
			if r.failed > 0 {
				b.Fatalf("%s: %d requests failed", tg.name, r.failed)
			}
			lat[tg.name] = append(lat[tg.name], r.latencies...)
			took[tg.name] += r.elapsed
		}
	}
	b.StopTimer()
	stats := map[string][3]float64{}
	for _, tg := range targets {
		l := lat[tg.name]
		slices.Sort(l)
		rps := float64(len(l)) / took[tg.name].Seconds()
		p50, p99 := l[len(l)/2], l[len(l)*99/100]
		stats[tg.name] = [3]float64{rps, float64(p50.Microseconds()) / 1000, float64(p99.Microseconds()) / 1000}
		b.Logf("%-14s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms", tg.name, rps, stats[tg.name][1], stats[tg.name][2])
	}
	for _, px := range []string{"nginx", "caddy"} {
		with, alone := stats[px+"+bouncer"], stats[px]
		b.ReportMetric(with[0]/alone[0], px+"-rps-ratio")
		b.ReportMetric(with[1]/alone[1], px+"-p50-ratio")
		b.ReportMetric(with[2]/alone[2], px+"-p99-ratio")
		b.ReportMetric(with[1]-alone[1], px+"-p50-added-ms")
		b.Logf("%s: bouncer serve keeps %.2f× the requests per second; p50 ×%.2f (+%.2f ms), p99 ×%.2f (+%.2f ms)",
			px, with[0]/alone[0], with[1]/alone[1], with[1]-alone[1], with[2]/alone[2], with[2]-alone[2])
	}
}

type loadResult struct {
	latencies []time.Duration
	elapsed   time.Duration
	failed    int
}

// benchLoad sends n GETs with c workers.
func benchLoad(client *http.Client, url string, h http.Header, n, c int) loadResult {
	var mu sync.Mutex
	var res loadResult
	next := make(chan struct{}, n)
	for range n {
		next <- struct{}{}
	}
	close(next)
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			failed := 0
			for range next {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				req.Header = h
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					failed++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed++
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			res.latencies = append(res.latencies, mine...)
			res.failed += failed
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

// startPlainNginx is nginx passing requests straight to the upstream.
func startPlainNginx(t testing.TB, upstream string) string {
	t.Helper()
	dir := t.TempDir()
	addr := freePort(t)
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;"
	}
	conf := filepath.Join(dir, "nginx.conf")
	text := fmt.Sprintf(`%s
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
    upstream app { server %[3]s; keepalive 16; }
    server {
        listen %[4]s;
        location / {
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_pass http://app;
        }
    }
}
`, user, dir, upstream, addr)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "nginx", nil, nginxCommand(t), "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", conf)
	waitListening(t, "nginx", addr, p)
	return addr
}

// startPlainCaddy is Caddy passing requests straight to the upstream.
func startPlainCaddy(t testing.TB, upstream string) string {
	t.Helper()
	dir := t.TempDir()
	addr := freePort(t)
	file := filepath.Join(dir, "Caddyfile")
	text := fmt.Sprintf("{\n\tadmin off\n}\n\nhttp://%s {\n\treverse_proxy %s\n}\n", addr, upstream)
	if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p := start(t, "caddy", []string{"HOME=" + dir, "XDG_DATA_HOME=" + dir, "XDG_CONFIG_HOME=" + dir},
		caddyCommand(t), "run", "--config", file, "--adapter", "caddyfile")
	waitListening(t, "caddy", addr, p)
	return addr
}
