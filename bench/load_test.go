package bench

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// BenchmarkLoad measures what a protected route costs a server, against
// the same route open, on every front door bouncer has an adapter for,
// and on the DPoP path. The server runs in a child process pinned to one
// core with GOMAXPROCS=1; this process generates the load from the other
// core, writing prepared requests (see h1load.go and h2load.go), over a
// fixed number of keep-alive connections. Rounds alternate the open and
// the protected route, in alternating order, so that the machine's other
// work disturbs both alike.
//
// A ratio of requests per second says something only when the server
// was saturated: its CPU share (its CPU time over the wall time of the
// window, from /proc/<pid>/stat) at least minShare. Otherwise the ratio
// is the load generator's or the machine's, and the table says so
// instead of printing it. The server's CPU time per request, and the
// heap objects it allocated per request, are reported for each route.

var (
	loadRounds    = flag.Int("load.rounds", 10, "rounds of the load benchmark, each an open and a protected window")
	loadTime      = flag.Duration("load.time", time.Second, "length of each window")
	loadMax       = flag.Int64("load.max", 2_000_000, "most requests in a window")
	loadConns     = flag.Int("load.conns", 32, "HTTP/1.1 connections")
	loadDepth     = flag.Int("load.depth", 1, "requests in flight on each HTTP/1.1 connection (more than 1: pipelined)")
	loadGRPCConns = flag.Int("load.grpcconns", 4, "HTTP/2 connections of the gRPC load")
	loadGRPCDepth = flag.Int("load.grpcdepth", 16, "calls in flight on each HTTP/2 connection")
	loadProfile   = flag.String("load.profile", "", "directory for CPU and allocation profiles of each server, open and protected")
)

// minShare is the server CPU share below which a window does not count
// as saturated.
const minShare = 0.9

// driver sends a window of load to the open or the protected route.
type driver interface {
	run(cfg loadConfig, protected bool) loadResult
	close()
}

type h1Driver struct {
	conns           *h1Conns
	open, protected *requestSet
}

func (d *h1Driver) run(cfg loadConfig, protected bool) loadResult {
	if protected {
		return d.conns.run(cfg, d.protected)
	}
	return d.conns.run(cfg, d.open)
}

func (d *h1Driver) close() { d.conns.close() }

type h2Driver struct {
	conns           *h2Conns
	open, protected grpcCall
}

func (d *h2Driver) run(cfg loadConfig, protected bool) loadResult {
	if protected {
		return d.conns.run(cfg, d.protected)
	}
	return d.conns.run(cfg, d.open)
}

func (d *h2Driver) close() { d.conns.close() }

// window is one measured window: the generator's result and what the
// server spent on it.
type window struct {
	loadResult
	cpu    time.Duration // the server's
	genCPU time.Duration // the load generator's
	allocs uint64
}

func (w window) rate() float64  { return float64(w.ok) / w.elapsed.Seconds() }
func (w window) share() float64 { return w.cpu.Seconds() / w.elapsed.Seconds() }
func (w window) cpuPerRequest() float64 {
	return float64(w.cpu.Microseconds()) / float64(max(w.ok+w.failed, 1))
}

// genBusyPerRequest is the generator's CPU time per request, less what it
// spent polling for answers that had not come.
func (w window) genBusyPerRequest() float64 {
	return float64((w.genCPU - w.idle).Microseconds()) / float64(max(w.ok+w.failed, 1))
}
func (w window) allocsPerRequest() float64 { return float64(w.allocs) / float64(max(w.ok+w.failed, 1)) }

func measure(s *server, d driver, cfg loadConfig, protected bool) (window, error) {
	a0, err := s.allocs()
	if err != nil {
		return window{}, err
	}
	c0, err := cpuTime(s.pid)
	if err != nil {
		return window{}, err
	}
	g0, err := cpuTime(os.Getpid())
	if err != nil {
		return window{}, err
	}
	res := d.run(cfg, protected)
	c1, err := cpuTime(s.pid)
	if err != nil {
		return window{}, err
	}
	g1, err := cpuTime(os.Getpid())
	if err != nil {
		return window{}, err
	}
	a1, err := s.allocs()
	if err != nil {
		return window{}, err
	}
	w := window{loadResult: res, cpu: c1 - c0, genCPU: g1 - g0, allocs: a1 - a0}
	if res.failed > 0 || res.ok == 0 {
		return w, fmt.Errorf("%d requests failed, %d answered 200: %v", res.failed, res.ok, res.err)
	}
	return w, nil
}

// row is a front door's rounds.
type row struct {
	name            string
	open, protected []window
}

// cpus are the cores for the server and the load generator.
func cpus(tb testing.TB) (server, generator int) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil || set.Count() < 2 {
		tb.Logf("fewer than two cores to run on (%v): server and load generator share them, and no window will count as saturated", err)
		return -1, -1
	}
	var ids []int
	for i := range 1024 {
		if set.IsSet(i) {
			ids = append(ids, i)
		}
	}
	return ids[0], ids[1]
}

var (
	tableMu sync.Mutex
	table   []row
)

func BenchmarkLoad(b *testing.B) {
	serverCPU, genCPU := cpus(b)
	start := loadAverage()
	table = nil
	for _, fd := range frontDoors {
		b.Run(fd.name, func(b *testing.B) {
			for b.Loop() {
				loadRow(b, fd, fd.name, nil, serverCPU, genCPU)
			}
		})
	}
	b.Run("nethttp-dpop", func(b *testing.B) {
		for b.Loop() {
			fd, _ := findFrontDoor("nethttp")
			loadRow(b, fd, "nethttp DPoP", dpopProofs(b), serverCPU, genCPU)
		}
	})
	printTable(os.Stdout, start, serverCPU, genCPU)
}

// dpopSetup is the DPoP row's key and how many proofs to make.
type dpopSetup struct {
	key    *bearertest.Key
	proofs int
}

// dpopProofs sizes the DPoP row: enough proofs for every protected window
// at the rate a saturated core can check ES256 proofs, and then some.
func dpopProofs(tb testing.TB) *dpopSetup {
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		tb.Fatal(err)
	}
	windows := float64(*loadRounds)*loadTime.Seconds() + 0.5
	return &dpopSetup{key: key, proofs: int(math.Min(20_000*windows, float64(*loadMax)))}
}

// makeProofRequests makes n DPoP requests for the protected route, each
// with a proof of its own, on every core.
func makeProofRequests(tb testing.TB, key *bearertest.Key, addr, tok string, n int) [][]byte {
	reqs := make([][]byte, n)
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	var failed sync.Once
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				proof, err := key.DPoPProof(http.MethodGet, dpopURL+pathProtected, tok, "")
				if err != nil {
					failed.Do(func() { tb.Error(err) })
					return
				}
				reqs[i] = httpRequest("GET", pathProtected, addr, []string{"Authorization: DPoP " + tok, "DPoP: " + proof}, nil)
			}
		})
	}
	wg.Wait()
	if tb.Failed() {
		tb.FailNow()
	}
	return reqs
}

// loadRow measures one front door (with DPoP when dp is set).
func loadRow(b *testing.B, fd frontDoor, name string, dp *dpopSetup, serverCPU, genCPU int) {
	var env []string
	if dp != nil {
		env = append(env, jktEnv+"="+dp.key.Thumbprint())
	}
	s := startServer(b, fd.name, serverCPU, env...)
	d := newDriver(b, fd, s, dp)
	defer d.close()

	if genCPU >= 0 {
		if err := pinProcess(genCPU); err != nil {
			b.Fatal(err)
		}
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	}
	cfg := loadConfig{conns: *loadConns, depth: *loadDepth, duration: *loadTime, max: *loadMax}
	if fd.kind == kindGRPC {
		cfg.conns, cfg.depth = *loadGRPCConns, *loadGRPCDepth
	}
	warm := cfg
	warm.duration = 300 * time.Millisecond
	warm.max = 4000 // DPoP proofs are single-use
	for _, protected := range []bool{true, false} {
		if _, err := measure(s, d, warm, protected); err != nil {
			b.Fatalf("%s warm-up: %v", name, err)
		}
	}
	r := row{name: name}
	for round := range *loadRounds {
		for i := range 2 {
			protected := (round+i)%2 == 1
			w, err := measure(s, d, cfg, protected)
			if err != nil {
				b.Fatalf("%s round %d (protected %v): %v", name, round, protected, err)
			}
			if protected {
				r.protected = append(r.protected, w)
			} else {
				r.open = append(r.open, w)
			}
		}
	}
	if *loadProfile != "" {
		for _, protected := range []bool{false, true} {
			dir := filepath.Join(*loadProfile, strings.ReplaceAll(name, " ", "-")+map[bool]string{false: "-open", true: "-protected"}[protected])
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
			if _, err := s.command("profile " + dir); err != nil {
				b.Fatal(err)
			}
			pcfg := cfg
			pcfg.duration = 3 * cfg.duration
			d.run(pcfg, protected)
			if _, err := s.command("stop"); err != nil {
				b.Fatal(err)
			}
		}
	}
	open, prot := total(r.open), total(r.protected)
	b.ReportMetric(open.rate(), "open-req/s")
	b.ReportMetric(prot.rate(), "protected-req/s")
	b.ReportMetric(prot.cpuPerRequest()-open.cpuPerRequest(), "Δserver-µs/req")
	b.ReportMetric(min(open.share(), prot.share()), "min-server-share")
	tableMu.Lock()
	table = append(table, r)
	tableMu.Unlock()
}

// newDriver connects the load generator to s.
func newDriver(tb testing.TB, fd frontDoor, s *server, dp *dpopSetup) driver {
	auth := "Bearer " + s.token
	switch fd.kind {
	case kindGRPC:
		conns, err := dialH2Conns(s.addr, *loadGRPCConns)
		if err != nil {
			tb.Fatal(err)
		}
		md := [][2]string{{"authorization", auth}}
		return &h2Driver{conns: conns,
			open:      newGRPCCall(s.addr, rpcOpen, md, rpcRequest),
			protected: newGRPCCall(s.addr, rpcProtected, md, rpcRequest)}
	case kindConnect:
		conns, err := dialH1(s.addr, *loadConns)
		if err != nil {
			tb.Fatal(err)
		}
		h := []string{"Content-Type: application/proto", "Connect-Protocol-Version: 1", "Authorization: " + auth}
		return &h1Driver{conns: conns,
			open:      repeat(httpRequest("POST", rpcOpen, s.addr, h, rpcRequest)),
			protected: repeat(httpRequest("POST", rpcProtected, s.addr, h, rpcRequest))}
	}
	if dp != nil {
		// The proofs first: making them takes seconds, for which the
		// server would count connections idle.
		reqs := makeProofRequests(tb, dp.key, s.addr, s.token, dp.proofs)
		conns, err := dialH1(s.addr, *loadConns)
		if err != nil {
			tb.Fatal(err)
		}
		// The open route gets the same headers; its handler reads none.
		open := strings.Replace(string(reqs[0]), "GET "+pathProtected+" ", "GET "+pathOpen+" ", 1)
		return &h1Driver{conns: conns, open: repeat([]byte(open)), protected: distinct(reqs)}
	}
	conns, err := dialH1(s.addr, *loadConns)
	if err != nil {
		tb.Fatal(err)
	}
	h := []string{"Authorization: " + auth}
	return &h1Driver{conns: conns,
		open:      repeat(httpRequest("GET", pathOpen, s.addr, h, nil)),
		protected: repeat(httpRequest("GET", pathProtected, s.addr, h, nil))}
}

// total sums windows.
func total(ws []window) window {
	var t window
	for _, w := range ws {
		t.merge(&w.loadResult)
		t.elapsed += w.elapsed
		t.cpu += w.cpu
		t.genCPU += w.genCPU
		t.allocs += w.allocs
	}
	return t
}

func median(v []float64) float64 { return quantile(v, 0.5) }

// quantile is the q-quantile of v, the nearest rank.
func quantile(v []float64, q float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(int(q*float64(len(s))), len(s)-1)]
}

// verdict is a row's ratio of protected to open requests per second and
// the difference in server CPU time per request, medians over the rounds
// where the server was saturated in both windows, with the differences of
// those rounds; or why there is none.
func (r row) verdict() (ratio, delta float64, deltas []float64, why string) {
	var ratios []float64
	for i := range r.open {
		o, p := r.open[i], r.protected[i]
		if o.share() >= minShare && p.share() >= minShare {
			ratios = append(ratios, p.rate()/o.rate())
			deltas = append(deltas, p.cpuPerRequest()-o.cpuPerRequest())
		}
	}
	if len(ratios) == 0 || 2*len(ratios) < len(r.open) {
		lowest := 1.0
		for i := range r.open {
			lowest = min(lowest, r.open[i].share(), r.protected[i].share())
		}
		return 0, 0, nil, fmt.Sprintf("no ratio: server saturated in %d of %d rounds (CPU share as low as %.2f < %.2f)", len(ratios), len(r.open), lowest, minShare)
	}
	return median(ratios), median(deltas), deltas, ""
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

func printTable(w *os.File, loadAtStart string, serverCPU, genCPU int) {
	tableMu.Lock()
	defer tableMu.Unlock()
	if len(table) == 0 {
		return
	}
	fmt.Fprintf(w, "\nLoad: server pinned to cpu %d with GOMAXPROCS=1, load generator on cpu %d; HTTP/1.1: %d connections, %d request(s) in flight each; gRPC: %d HTTP/2 connections, %d calls in flight each; %d rounds of %v per route, interleaved. Load average (1, 5, 15 min): %s at start, %s at end.\n\n",
		serverCPU, genCPU, *loadConns, *loadDepth, *loadGRPCConns, *loadGRPCDepth, *loadRounds, *loadTime, loadAtStart, loadAverage())
	fmt.Fprintln(w, "| front door | open req/s | protected req/s | protected/open | server CPU share open / protected | server CPU µs/req open → protected (Δ) | Δ, middle half of rounds | allocs/req open → protected | p50 / p99 ms open | p50 / p99 ms protected | generator CPU µs/req, busy |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	var notes []string
	for _, r := range table {
		o, p := total(r.open), total(r.protected)
		ratio, delta, deltas, why := r.verdict()
		ratioCell, deltaCell, spreadCell := fmt.Sprintf("%.3f", ratio), fmt.Sprintf("%+.2f", delta), "—"
		if why != "" {
			ratioCell, deltaCell = "—", "—"
			notes = append(notes, r.name+": "+why)
		} else {
			spreadCell = fmt.Sprintf("%+.2f … %+.2f", quantile(deltas, 0.25), quantile(deltas, 0.75))
		}
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %s | %.2f / %.2f | %.2f → %.2f (%s) | %s | %.1f → %.1f | %s / %s | %s / %s | %.1f |\n",
			r.name, o.rate(), p.rate(), ratioCell, o.share(), p.share(), o.cpuPerRequest(), p.cpuPerRequest(), deltaCell, spreadCell,
			o.allocsPerRequest(), p.allocsPerRequest(),
			ms(o.latency.quantile(0.5)), ms(o.latency.quantile(0.99)), ms(p.latency.quantile(0.5)), ms(p.latency.quantile(0.99)),
			total([]window{o, p}).genBusyPerRequest())
	}
	fmt.Fprintln(w, "\nprotected/open and Δ are medians over the rounds where the server's CPU share was at least", minShare, "in both windows, and the middle half of those rounds' Δ lies in the range given; the other columns cover every round.")
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
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
