package gateway

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// BenchmarkEnvoyCheck is the cost of one ext_authz Check answered by the
// gateway over a real gRPC connection (a valid token, from the cache of
// judged tokens, as a client's repeated token is), against a bare gRPC
// round trip to the same server (the standard health check), in
// interleaved batches: check-ns and check-ratio are what deciding adds.
func BenchmarkEnvoyCheck(b *testing.B) {
	iss := newIssuer(b)
	g := newBenchGateway(b, iss)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer()
	authv3.RegisterAuthorizationServer(gs, authorizationServer{current: func() (*Gateway, func()) { return g, func() {} }})
	hs := health.NewServer()
	healthpb.RegisterHealthServer(gs, hs)
	go gs.Serve(ln)
	defer gs.Stop()
	conn, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	authz, hc := authv3.NewAuthorizationClient(conn), healthpb.NewHealthClient(conn)
	tok, _ := iss.Mint(map[string]any{"scope": "orders.read", "client_id": "billing"})
	req := checkRequest("GET", "api.example.com", "/orders/7", map[string]string{"authorization": "Bearer " + tok})
	ctx := context.Background()
	if resp, err := authz.Check(ctx, req); err != nil || resp.GetOkResponse() == nil {
		b.Fatalf("check: %v %v", err, resp)
	}
	const batch = 200
	var checkT, healthT time.Duration
	var n int
	b.ResetTimer()
	for n < b.N {
		t0 := time.Now()
		for range batch {
			if _, err := authz.Check(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for range batch {
			if _, err := hc.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				b.Fatal(err)
			}
		}
		checkT += t1.Sub(t0)
		healthT += time.Since(t1)
		n += batch
	}
	b.ReportMetric(float64(checkT.Nanoseconds())/float64(n), "check-ns")
	b.ReportMetric(float64(healthT.Nanoseconds())/float64(n), "grpc-roundtrip-ns")
	b.ReportMetric(float64(checkT)/float64(healthT), "check-ratio")
}

// BenchmarkForwardAuth is one forward-auth check over loopback HTTP
// against a bare HTTP round trip to a handler that answers 200.
func BenchmarkForwardAuth(b *testing.B) {
	iss := newIssuer(b)
	g := newBenchGateway(b, iss)
	fa := httptest.NewServer(http.HandlerFunc(g.forwardAuth))
	defer fa.Close()
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer bare.Close()
	tok, _ := iss.Mint(map[string]any{"scope": "orders.read", "client_id": "billing"})
	h := traefik("GET", "api.example.com", "/orders/7", http.Header{"Authorization": {"Bearer " + tok}})
	client := &http.Client{}
	do := func(url string) {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		req.Header = h
		resp, err := client.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("%v %v", err, resp)
		}
		resp.Body.Close()
	}
	do(fa.URL + "/auth")
	const batch = 200
	var faT, bareT time.Duration
	var n int
	b.ResetTimer()
	for n < b.N {
		t0 := time.Now()
		for range batch {
			do(fa.URL + "/auth")
		}
		t1 := time.Now()
		for range batch {
			do(bare.URL)
		}
		faT += t1.Sub(t0)
		bareT += time.Since(t1)
		n += batch
	}
	b.ReportMetric(float64(faT.Nanoseconds())/float64(n), "forward-auth-ns")
	b.ReportMetric(float64(bareT.Nanoseconds())/float64(n), "http-roundtrip-ns")
	b.ReportMetric(float64(faT)/float64(bareT), "forward-auth-ratio")
}

func newBenchGateway(b *testing.B, iss interface{ URL() string }) *Gateway {
	b.Helper()
	cfg, err := Parse("bench.yaml", []byte(ordersConfig), func(string) (string, bool) { return iss.URL(), true })
	if err != nil {
		b.Fatal(err)
	}
	g, err := New(cfg, Options{Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { g.Close() })
	return g
}

// BenchmarkDecide is the gateway's decision in process (the request
// rebuilt from a proxy's headers, routing, package bearer's Check, the
// claim headers) against package bearer's Check of the same request
// alone, interleaved: what the gateway adds to the library's own work.
func BenchmarkDecide(b *testing.B) {
	iss := newIssuer(b)
	g := newBenchGateway(b, iss)
	tok, _ := iss.Mint(map[string]any{"scope": "orders.read", "client_id": "billing"})
	h := traefik("GET", "api.example.com", "/orders/7", http.Header{"Authorization": {"Bearer " + tok}})
	ctx := context.Background()
	pol := g.routes[2].policies
	o := func() *original {
		return &original{method: "GET", host: "api.example.com", path: "/orders/7", headers: httpHeaders(h), proto: "https", fwdHost: "api.example.com"}
	}
	if v := g.decide(ctx, "bench", o()); !v.allowed {
		b.Fatal("refused")
	}
	const batch = 1000
	var gwT, coreT time.Duration
	var n int
	b.ReportAllocs()
	b.ResetTimer()
	for n < b.N {
		t0 := time.Now()
		for range batch {
			g.decide(ctx, "bench", o())
		}
		t1 := time.Now()
		for range batch {
			if _, err := g.checker.Check(ctx, plain{"GET", "/orders/7", h}, pol...); err != nil {
				b.Fatal(err)
			}
		}
		gwT += t1.Sub(t0)
		coreT += time.Since(t1)
		n += batch
	}
	b.ReportMetric(float64(gwT.Nanoseconds())/float64(n), "decide-ns")
	b.ReportMetric(float64(coreT.Nanoseconds())/float64(n), "check-ns")
	b.ReportMetric(float64(gwT)/float64(coreT), "decide-ratio")
}
