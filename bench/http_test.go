package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// The HTTP benchmark runs each server in a child process limited to one
// core (GOMAXPROCS=1), as a service under load would be, and drives it from
// this process with a fixed number of keep-alive connections on loopback
// for a fixed time. Rounds alternate between the open and the protected
// route, and the ratio reported is the median of the per-round ratios, so
// that the machine's other work disturbs both alike.

const (
	connections = 32
	roundTime   = time.Second
	rounds      = 5
)

// serverEnv names the framework a child process serves.
const serverEnv = "BOUNCER_BENCH_SERVE"

func TestMain(m *testing.M) {
	if fw := os.Getenv(serverEnv); fw != "" {
		os.Exit(childServe(fw))
	}
	os.Exit(m.Run())
}

// childServe is the server process: an issuer and a verifier of its own,
// one framework, the address and a token on stdout, until stdin closes.
func childServe(name string) int {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer iss.Close()
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	tok, _ := iss.Mint(map[string]any{"scope": scope + " customer.read", "exp": time.Now().Add(time.Hour).Unix()})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for _, fw := range frameworks {
		if fw.name == name {
			stop := fw.serve(l, v)
			fmt.Printf("%s %s\n", l.Addr(), tok)
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
			return 0
		}
	}
	fmt.Fprintln(os.Stderr, "unknown framework", name)
	return 1
}

// startServer runs the child for framework name.
func startServer(b *testing.B, name string) (base, token string) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serverEnv+"="+name, "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	addr, tok, _ := strings.Cut(strings.TrimSpace(line), " ")
	return "http://" + addr, tok
}

// load sends GET url with auth on connections keep-alive connections for d
// and returns the requests per second answered 200.
func load(b *testing.B, client *http.Client, url, auth string, d time.Duration) float64 {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var done atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range connections {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			for ctx.Err() == nil {
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						failed.Add(1)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					done.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f > done.Load()/100 {
		b.Fatalf("%s: %d requests failed, %d answered", url, f, done.Load())
	}
	return float64(done.Load()) / time.Since(start).Seconds()
}

// BenchmarkHTTP reports, per framework, the requests per second of the
// open and the protected route (the same token on every request) and
// their ratio.
func BenchmarkHTTP(b *testing.B) {
	for _, fw := range frameworks {
		b.Run(fw.name, func(b *testing.B) {
			base, tok := startServer(b, fw.name)
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: connections, MaxConnsPerHost: connections}}
			defer client.CloseIdleConnections()
			load(b, client, base+pathProtected, "Bearer "+tok, 200*time.Millisecond) // warm up: keys, cache, connections
			var open, protected, ratios []float64
			for b.Loop() {
				for range rounds {
					o := load(b, client, base+pathOpen, "Bearer "+tok, roundTime)
					p := load(b, client, base+pathProtected, "Bearer "+tok, roundTime)
					open, protected, ratios = append(open, o), append(protected, p), append(ratios, p/o)
				}
			}
			b.ReportMetric(median(open), "open-req/s")
			b.ReportMetric(median(protected), "protected-req/s")
			b.ReportMetric(median(ratios), "protected/open")
		})
	}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkCacheFlood verifies 100 000 distinct valid tokens with the
// default cache bounds and reports the heap before and after, and what
// the cache holds: its bound, not the flood, sets the memory.
func BenchmarkCacheFlood(b *testing.B) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"), bearertest.WithTokenAlg("EdDSA"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	const n = 100_000
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = iss.MustMint(b, map[string]any{"n": i, "scope": scope})
	}
	for b.Loop() {
		v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		for _, tok := range tokens {
			if _, err := v.Verify(context.Background(), tok); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		st := v.Status()
		b.ReportMetric(float64(before.HeapAlloc)/(1<<20), "heap-before-MiB")
		b.ReportMetric(float64(after.HeapAlloc)/(1<<20), "heap-after-MiB")
		b.ReportMetric(float64(st.CachedTokens), "cached-tokens")
		b.ReportMetric(float64(st.CacheBytes)/(1<<20), "cache-MiB")
	}
}
