package gateway

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// startRedis runs Debian's redis-server on a free loopback port for the
// test and returns its URL. make test and CI install it; without it the
// test fails, saying so.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatal("redis-server is not installed (Debian: apt-get install redis-server); the test needs a real one")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "redis://" + addr + "/0"
}

// Two gateways sharing Redis are one fleet: a DPoP proof accepted by one
// is a replay at the other.
func TestRedisSharesDPoPReplayAcrossReplicas(t *testing.T) {
	iss := newIssuer(t)
	text := ordersConfig + fmt.Sprintf(`
dpop:
  public-urls:
    "*": https://api.example.com
redis:
  url: %s
  prefix: "orders:"
`, startRedis(t))
	a := forwardAuthServer(t, newGateway(t, text, iss))
	b := forwardAuthServer(t, newGateway(t, text, iss))
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, map[string]any{"scope": "orders.read", "cnf": map[string]any{"jkt": key.Thumbprint()}})
	proof, err := key.DPoPProof("GET", "https://api.example.com/orders/7", tok, "")
	if err != nil {
		t.Fatal(err)
	}
	h := traefik("GET", "api.example.com", "/orders/7", http.Header{"Authorization": {"DPoP " + tok}, "Dpop": {proof}})
	if r := ask(t, a, h); r.status != 200 {
		t.Fatalf("first replica: %d %s", r.status, r.body)
	}
	r := ask(t, b, h)
	if r.status != 401 || !strings.Contains(r.body, "used before") {
		t.Fatalf("the proof replayed at the other replica: %d %s", r.status, r.body)
	}
}
