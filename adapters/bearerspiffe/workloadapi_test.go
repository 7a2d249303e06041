package bearerspiffe_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/adapters/bearerspiffe"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/workload/spiffe"
	"github.com/go-jose/go-jose/v4"
	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// agent is the part of a SPIRE agent's Workload API that JWTSource uses:
// it streams the JWT bundles of the trust domains, and again whenever
// they change, to callers that send the Workload API's header.
type agent struct {
	workload.UnimplementedSpiffeWorkloadAPIServer
	mu      sync.Mutex
	bundles map[string][]byte
	changed chan struct{} // closed and replaced on every change
}

func (a *agent) set(t *testing.T, keys map[string][]*bearertest.Key) {
	t.Helper()
	out := map[string][]byte{}
	for td, ks := range keys {
		set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
		for _, k := range ks {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: k.ID()})
		}
		b, err := json.Marshal(set)
		if err != nil {
			t.Fatal(err)
		}
		out["spiffe://"+td] = b
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.bundles = out
	close(a.changed)
	a.changed = make(chan struct{})
}

func (a *agent) FetchJWTBundles(_ *workload.JWTBundlesRequest, stream grpc.ServerStreamingServer[workload.JWTBundlesResponse]) error {
	if md, _ := metadata.FromIncomingContext(stream.Context()); len(md.Get("workload.spiffe.io")) != 1 || md.Get("workload.spiffe.io")[0] != "true" {
		return status.Error(codes.InvalidArgument, "security header missing from request")
	}
	for {
		a.mu.Lock()
		bundles, changed := a.bundles, a.changed
		a.mu.Unlock()
		if err := stream.Send(&workload.JWTBundlesResponse{Bundles: bundles}); err != nil {
			return err
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return nil
		}
	}
}

func startAgent(t *testing.T, keys map[string][]*bearertest.Key) (*agent, string, func()) {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{changed: make(chan struct{})}
	a.set(t, keys)
	srv := grpc.NewServer()
	workload.RegisterSpiffeWorkloadAPIServer(srv, a)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return a, "unix://" + sock, srv.Stop
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newKey(t *testing.T) *bearertest.Key {
	t.Helper()
	k, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The Verifier takes the trust domain's keys from the Workload API as the
// agent streams them: added keys verify, removed keys stop verifying, and
// while the agent is gone or names no bundle for the trust domain the
// last keys stay.
func TestWorkloadAPI(t *testing.T) {
	ctx := context.Background()
	k1, k2, other := newKey(t), newKey(t), newKey(t)
	agent, addr, stop := startAgent(t, map[string][]*bearertest.Key{"example.org": {k1}, "other.org": {other}})
	src, err := workloadapi.NewJWTSource(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(addr)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	clk := &clock{t: time.Now()}
	cfg, err := spiffe.Config{TrustDomain: "example.org", Audiences: []string{"orders"}, Bundles: bearerspiffe.Bundles(src)}.Bearer()
	if err != nil {
		t.Fatal(err)
	}
	cfg.Now, cfg.Logger = clk.Now, slog.New(slog.DiscardHandler)
	v, err := bearer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	mint, err := bearertest.NewIssuer(bearertest.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer mint.Close()
	svid := func(k *bearertest.Key, sub string) string {
		return mint.MustMint(t, map[string]any{"iss": nil, "jti": nil, "client_id": nil, "sub": sub, "aud": "orders"}, bearertest.WithKey(k), bearertest.WithHeader("typ", "JWT"))
	}
	verify := func(k *bearertest.Key) error {
		_, err := v.Verify(ctx, svid(k, "spiffe://example.org/ns/shop/sa/checkout"))
		return err
	}
	update := func(keys map[string][]*bearertest.Key) {
		t.Helper()
		updated := src.Updated()
		agent.set(t, keys)
		select {
		case <-updated:
		case <-time.After(5 * time.Second):
			t.Fatal("the source was not updated")
		}
	}

	if err := verify(k1); err != nil {
		t.Fatal(err)
	}
	// A key of another trust domain vouches for nothing here, not even
	// for that domain's workloads.
	if _, err := v.Verify(ctx, svid(other, "spiffe://other.org/x")); err == nil {
		t.Error("a token of other.org was accepted")
	}

	update(map[string][]*bearertest.Key{"example.org": {k1, k2}})
	clk.Advance(11 * time.Second)
	if err := verify(k2); err != nil {
		t.Fatalf("a key the agent added: %v", err)
	}

	update(map[string][]*bearertest.Key{"example.org": {k2}})
	clk.Advance(spiffe.BundleCheckInterval + 5*time.Second)
	_ = verify(k2) // starts the check
	waitFor(t, func() bool { return v.Status().Keys == 1 })
	if err := verify(k1); !errors.Is(err, bearer.ErrUnknownKey) {
		t.Fatalf("a key the agent removed: err = %v", err)
	}

	// No bundle for the trust domain: an error, the keys stay.
	update(map[string][]*bearertest.Key{"other.org": {other}})
	clk.Advance(spiffe.BundleCheckInterval + 5*time.Second)
	_ = verify(k2)
	waitFor(t, func() bool { return v.Status().Failures > 0 })
	if err := verify(k2); err != nil {
		t.Fatalf("keys dropped when the agent named no bundle: %v", err)
	}

	// The agent goes away: the source keeps what it had.
	update(map[string][]*bearertest.Key{"example.org": {k2}})
	stop()
	clk.Advance(spiffe.BundleCheckInterval + 5*time.Second)
	_ = verify(k2)
	waitFor(t, func() bool { return v.Status().Failures == 0 })
	if err := verify(k2); err != nil {
		t.Fatalf("after the agent stopped: %v", err)
	}
}

// An empty bundle from the agent is the trust domain withdrawing its keys.
func TestWorkloadAPIEmptyBundle(t *testing.T) {
	ctx := context.Background()
	k := newKey(t)
	agent, addr, _ := startAgent(t, map[string][]*bearertest.Key{"example.org": {}})
	_ = agent
	src, err := workloadapi.NewJWTSource(ctx, workloadapi.WithClientOptions(workloadapi.WithAddr(addr)))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b, err := bearerspiffe.Bundles(src).Bundle(ctx, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	got, err := spiffe.ParseBundle(b)
	if err != nil || got.Keys != 0 {
		t.Fatalf("ParseBundle(%s) = %+v, %v", b, got, err)
	}
	_ = k
}
