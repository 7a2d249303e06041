package bench

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// The load generators are tested against the servers they measure: a
// generator that miscounted would make every table wrong.

func TestParseResponseFraming(t *testing.T) {
	responses := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
		"HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nWWW-Authenticate: Bearer\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: v\r\n\r\n",
		"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 2\r\n\r\n{}",
	}
	want := []int{200, 401, 200, 503}
	stream := []byte(strings.Join(responses, ""))
	for i, w := range want {
		// Every prefix short of the whole response is incomplete.
		for cut := range len(responses[i]) {
			if _, used, err := parseResponse(stream[:cut]); used != 0 || err != nil {
				t.Fatalf("response %d cut at %d: used %d, %v", i, cut, used, err)
			}
		}
		status, used, err := parseResponse(stream)
		if err != nil || status != w || used != len(responses[i]) {
			t.Fatalf("response %d: status %d, used %d, %v; want %d, %d", i, status, used, err, w, len(responses[i]))
		}
		stream = stream[used:]
	}
	for _, bad := range []string{
		"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	} {
		if _, _, err := parseResponse([]byte(bad)); err == nil {
			t.Errorf("%q parsed without error", bad)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for q, want := range map[float64]time.Duration{0.5: 500 * time.Microsecond, 0.99: 990 * time.Microsecond} {
		got := h.quantile(q)
		if got > want || got < want*98/100 {
			t.Errorf("quantile %v = %v, want %v within 2%%", q, got, want)
		}
	}
	for _, d := range []time.Duration{0, 1, 127, 128, 129, time.Millisecond, time.Hour} {
		if lb := lowerBound(bucketOf(d)); lb > d || (d > 0 && lb < d*98/100) {
			t.Errorf("bucket of %v starts at %v", d, lb)
		}
	}
}

func TestParseStat(t *testing.T) {
	line := "4242 (a b) c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 100 1000 10\n"
	got, err := parseStat([]byte(line))
	if err != nil || got != 3250*time.Millisecond {
		t.Fatalf("parseStat = %v, %v; want 3.25s", got, err)
	}
	if _, err := parseStat([]byte("4242 (x) S 1 2")); err == nil {
		t.Fatal("a short line parsed")
	}
	if d, err := cpuTime(1); err != nil || d < 0 {
		t.Fatalf("cpuTime(1) = %v, %v", d, err)
	}
}

// testServer serves front door fd on a loopback port with a verifier of
// a test issuer, returning its address and a valid token.
func testServer(t *testing.T, fd string) (addr, token string) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := findFrontDoor(fd)
	t.Cleanup(f.serve(l, v))
	return l.Addr().String(), iss.MustMint(t, map[string]any{"scope": scope})
}

func TestH1LoadCounts(t *testing.T) {
	for _, depth := range []int{1, 4} {
		for _, fd := range []string{"nethttp", "fiber", "connect"} {
			addr, tok := testServer(t, fd)
			conns, err := dialH1(addr, 3)
			if err != nil {
				t.Fatal(err)
			}
			defer conns.close()
			req := func(path, auth string) *requestSet {
				if fd == "connect" {
					path = map[string]string{pathOpen: rpcOpen, pathProtected: rpcProtected}[path]
					return repeat(httpRequest("POST", path, addr, []string{"Content-Type: application/proto", "Authorization: " + auth}, rpcRequest))
				}
				return repeat(httpRequest("GET", path, addr, []string{"Authorization: " + auth}, nil))
			}
			cfg := loadConfig{conns: 3, depth: depth, duration: time.Minute, max: 300}
			res := conns.run(cfg, req(pathProtected, "Bearer "+tok))
			if res.ok != 300 || res.failed != 0 || res.latency.n != 300 {
				t.Errorf("%s depth %d: %d ok, %d failed (%v), %d latencies; want 300 ok", fd, depth, res.ok, res.failed, res.err, res.latency.n)
			}
			// Refused requests are counted as failures, and the connection
			// is still of use: refusals are read whole.
			res = conns.run(cfg, req(pathProtected, "Bearer junk"))
			if res.ok != 0 || res.failed != 300 {
				t.Errorf("%s depth %d, bad token: %d ok, %d failed; want 300 failed", fd, depth, res.ok, res.failed)
			}
			res = conns.run(cfg, req(pathOpen, "Bearer junk"))
			if res.ok != 300 {
				t.Errorf("%s depth %d, open route: %d ok, %d failed (%v)", fd, depth, res.ok, res.failed, res.err)
			}
		}
	}
}

func TestH1LoadDistinctRequests(t *testing.T) {
	addr, tok := testServer(t, "nethttp")
	conns, err := dialH1(addr, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer conns.close()
	var reqs [][]byte
	for range 25 {
		reqs = append(reqs, httpRequest("GET", pathProtected, addr, []string{"Authorization: Bearer " + tok}, nil))
	}
	res := conns.run(loadConfig{conns: 2, depth: 2, duration: time.Minute, max: 1000}, distinct(reqs))
	if res.ok != 25 {
		t.Fatalf("%d ok of 25 distinct requests (%d failed: %v)", res.ok, res.failed, res.err)
	}
}

func TestH2LoadCounts(t *testing.T) {
	addr, tok := testServer(t, "grpc")
	conns, err := dialH2Conns(addr, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer conns.close()
	call := func(method, auth string) grpcCall {
		return newGRPCCall(addr, method, [][2]string{{"authorization", auth}}, rpcRequest)
	}
	// More calls than the server's initial connection window holds
	// bytes of requests: flow control is kept.
	cfg := loadConfig{conns: 2, depth: 8, duration: time.Minute, max: 16000}
	res := conns.run(cfg, call(rpcProtected, "Bearer "+tok))
	if res.ok != 16000 || res.failed != 0 {
		t.Fatalf("%d ok, %d failed (%v); want 16000 ok", res.ok, res.failed, res.err)
	}
	cfg.max = 32
	if res := conns.run(cfg, call(rpcProtected, "Bearer junk")); res.ok != 0 || res.failed != 32 {
		t.Fatalf("bad token: %d ok, %d failed; want 32 failed", res.ok, res.failed)
	}
	if res := conns.run(cfg, call(rpcOpen, "Bearer junk")); res.ok != 32 {
		t.Fatalf("open method: %d ok, %d failed (%v)", res.ok, res.failed, res.err)
	}
}

func TestHTTPRequestBytes(t *testing.T) {
	got := httpRequest("POST", "/x", "h:1", []string{"A: b"}, []byte("xyz"))
	want := "POST /x HTTP/1.1\r\nHost: h:1\r\nUser-Agent: bouncer-bench\r\nAccept: */*\r\nA: b\r\nContent-Length: 3\r\n\r\nxyz"
	if !bytes.Equal(got, []byte(want)) {
		t.Fatalf("got %q", got)
	}
}
