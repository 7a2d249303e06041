package bearerredis_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

var quiet = slog.New(slog.DiscardHandler)

// replica is one API process: a Revoker, a verifier using it, and the
// Revocations that keep the Revoker in step with Redis, on a Redis
// client of its own.
type replica struct {
	revoker *bearer.Revoker
	v       *bearer.Verifier
	rev     *bearerredis.Revocations
	heard   *heard
}

func newReplica(t *testing.T, iss *bearertest.Issuer, addr string, cfg bearerredis.RevocationsConfig) *replica {
	t.Helper()
	h := &heard{}
	rv, err := bearer.NewRevoker(bearer.RevokerConfig{Logger: quiet, Observer: h})
	if err != nil {
		t.Fatal(err)
	}
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{bearertest.DefaultAudience}, Revocation: rv, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	rev, err := bearerredis.NewRevocations(rdb, rv, cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{revoker: rv, v: v, rev: rev, heard: h}
	t.Cleanup(func() { _ = rev.Close() })
	return r
}

func (r *replica) start(t *testing.T) {
	t.Helper()
	if err := r.rev.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func (r *replica) accepts(tok string) error {
	_, err := r.v.Verify(context.Background(), tok)
	return err
}

// refusedWithin waits until r refuses tok as revoked, for at most d, and
// returns when it did.
func (r *replica) refusedWithin(t *testing.T, tok string, d time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := r.accepts(tok)
		now := time.Now()
		if errors.Is(err, bearer.ErrRevoked) {
			return now
		}
		if err != nil {
			t.Fatalf("refused for another reason: %v", err)
		}
		if now.After(deadline) {
			t.Fatalf("still accepted %v after the revocation", d)
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// The fleet test: three replicas on one Redis; a token accepted by all
// three (and so in their token caches) is revoked through one, and every
// replica refuses it within a second. The worst delay of 100 trials is
// what the README reports.
func TestRevocationReachesEveryReplica(t *testing.T) {
	rdb, _ := startRedis(t)
	addr := rdb.Options().Addr
	iss, err := bearertest.NewIssuer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	var fleet []*replica
	for range 3 {
		r := newReplica(t, iss, addr, bearerredis.RevocationsConfig{})
		r.start(t)
		fleet = append(fleet, r)
	}
	const trials = 100
	var delays []time.Duration
	for i := range trials {
		client := fmt.Sprint("client-", i)
		tok := iss.MustMint(t, map[string]any{"client_id": client})
		for _, r := range fleet {
			for range 2 { // verified, then answered from the cache
				if err := r.accepts(tok); err != nil {
					t.Fatal(err)
				}
			}
		}
		through := fleet[i%len(fleet)]
		start := time.Now()
		if err := through.rev.Revoke(context.Background(), bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: client, Before: time.Now().Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		var worst time.Duration
		for _, r := range fleet {
			worst = max(worst, r.refusedWithin(t, tok, time.Second).Sub(start))
		}
		delays = append(delays, worst)
	}
	slices.Sort(delays)
	t.Logf("revoked through one replica, refused by all three after: median %v, 99th %v, worst %v (of %d trials)",
		delays[trials/2], delays[trials*99/100-1], delays[trials-1], trials)
	if delays[trials-1] >= time.Second {
		t.Fatalf("worst delay %v", delays[trials-1])
	}
}

// A replica that starts reads every rule stored before it; one that was
// running gets them as they come.
func TestNewReplicaReadsEveryRule(t *testing.T) {
	rdb, _ := startRedis(t)
	iss, _ := bearertest.NewIssuer()
	t.Cleanup(iss.Close)
	first := newReplica(t, iss, rdb.Options().Addr, bearerredis.RevocationsConfig{})
	first.start(t)
	var rules []bearer.Revocation
	for i := range 12_000 { // more than one page of Redis reads
		rules = append(rules, bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: fmt.Sprint("jti-", i)})
	}
	if err := first.rev.Revoke(context.Background(), rules...); err != nil {
		t.Fatal(err)
	}
	late := newReplica(t, iss, rdb.Options().Addr, bearerredis.RevocationsConfig{})
	late.start(t)
	if n := len(late.revoker.Rules()); n != len(rules) {
		t.Fatalf("the new replica holds %d rules of %d", n, len(rules))
	}
	stored, err := late.rev.Rules(context.Background())
	if err != nil || len(stored) != len(rules) {
		t.Fatalf("Rules: %d, %v", len(stored), err)
	}
	err = late.accepts(iss.MustMint(t, map[string]any{"jti": "jti-11999"}))
	if !errors.Is(err, bearer.ErrRevoked) {
		t.Fatalf("a revoked jti: %v", err)
	}
}

// storeSilently stores a rule in Redis as a replica would, without
// announcing it: a message every replica missed.
func storeSilently(t *testing.T, rdb *redis.Client, r bearer.Revocation) {
	t.Helper()
	publisher, err := bearerredis.NewRevocations(rdb, nil, bearerredis.RevocationsConfig{Prefix: "silent:", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := publisher.Revoke(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	// Move the entry from the silent prefix to the real one, with the
	// next sequence number, announcing nothing.
	ctx := context.Background()
	entry := rdb.ZRange(ctx, "silent:bouncer:revocations", -1, -1).Val()[0]
	if rdb.Get(ctx, "bouncer:revocations:epoch").Val() == "" {
		rdb.Set(ctx, "bouncer:revocations:epoch", "test", 0)
	}
	seq := rdb.Incr(ctx, "bouncer:revocations:seq").Val()
	rdb.ZAdd(ctx, "bouncer:revocations", redis.Z{Score: float64(seq), Member: entry})
	rdb.ZAdd(ctx, "bouncer:revocations:expiry", redis.Z{Score: float64(r.Expires.UnixMilli()), Member: entry})
}

// A missed message is repaired by the periodic read.
func TestMissedMessageRepairedByResync(t *testing.T) {
	rdb, _ := startRedis(t)
	iss, _ := bearertest.NewIssuer()
	t.Cleanup(iss.Close)
	r := newReplica(t, iss, rdb.Options().Addr, bearerredis.RevocationsConfig{ResyncEvery: 200 * time.Millisecond})
	r.start(t)
	tok := iss.MustMint(t, map[string]any{"jti": "missed"})
	if err := r.accepts(tok); err != nil {
		t.Fatal(err)
	}
	storeSilently(t, rdb, bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "missed", Expires: time.Now().Add(time.Hour)})
	r.refusedWithin(t, tok, time.Second)
}

// A message whose sequence number skips ahead makes the replica read what
// it missed at once, without waiting for the periodic read.
func TestSkippedSequenceNumberIsRepairedAtOnce(t *testing.T) {
	rdb, _ := startRedis(t)
	iss, _ := bearertest.NewIssuer()
	t.Cleanup(iss.Close)
	r := newReplica(t, iss, rdb.Options().Addr, bearerredis.RevocationsConfig{ResyncEvery: time.Hour})
	r.start(t)
	other := newReplica(t, iss, rdb.Options().Addr, bearerredis.RevocationsConfig{ResyncEvery: time.Hour})
	tok := iss.MustMint(t, map[string]any{"jti": "missed"})
	if err := r.accepts(tok); err != nil {
		t.Fatal(err)
	}
	storeSilently(t, rdb, bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "missed", Expires: time.Now().Add(time.Hour)})
	if err := other.rev.Revoke(context.Background(), bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "announced"}); err != nil {
		t.Fatal(err)
	}
	r.refusedWithin(t, tok, time.Second)
}

// A replica whose connection to Redis is cut misses what is announced
// meanwhile, and reads it when it subscribes again (the periodic read is
// an hour away here).
func TestReconnectedSubscriptionReadsWhatItMissed(t *testing.T) {
	rdb, _ := startRedis(t)
	iss, _ := bearertest.NewIssuer()
	t.Cleanup(iss.Close)
	link := newProxy(t, rdb.Options().Addr)
	r := newReplica(t, iss, link.addr(), bearerredis.RevocationsConfig{ResyncEvery: time.Hour})
	r.start(t)
	other := newReplica(t, iss, rdb.Options().Addr, bearerredis.RevocationsConfig{ResyncEvery: time.Hour})
	tok := iss.MustMint(t, map[string]any{"jti": "during-the-cut"})
	if err := r.accepts(tok); err != nil {
		t.Fatal(err)
	}
	waitForSubscribers(t, rdb, 1)
	link.cut(true) // the replica's connections drop, and it cannot reconnect
	waitForSubscribers(t, rdb, 0)
	if err := other.rev.Revoke(context.Background(), bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "during-the-cut"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if err := r.accepts(tok); err != nil {
		t.Fatalf("the replica learnt of the rule while cut off: %v", err)
	}
	link.cut(false)
	r.refusedWithin(t, tok, 2*time.Second)
}

// proxy relays TCP connections to a Redis, and can cut them.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

// cut drops every connection and refuses new ones, or lets them in again.
func (p *proxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

func waitForSubscribers(t *testing.T, rdb *redis.Client, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		counts, err := rdb.PubSubNumSub(context.Background(), "bouncer:revocations").Result()
		if err == nil && (counts["bouncer:revocations"] >= n && n > 0 || n == 0 && counts["bouncer:revocations"] == 0) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no subscriber: %v %v", counts, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Redis losing its data (a restart without persistence, a flush) starts a
// new data set, whose sequence numbers start again: replicas notice and
// read it whole.
func TestFlushedRedisIsReadWhole(t *testing.T) {
	rdb, _ := startRedis(t)
	iss, _ := bearertest.NewIssuer()
	t.Cleanup(iss.Close)
	r := newReplica(t, iss, rdb.Options().Addr, bearerredis.RevocationsConfig{ResyncEvery: 100 * time.Millisecond})
	r.start(t)
	for i := range 5 {
		if err := r.rev.Revoke(context.Background(), bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: fmt.Sprint("before-", i)}); err != nil {
			t.Fatal(err)
		}
	}
	rdb.FlushAll(context.Background())
	waitForSubscribers(t, rdb, 1)
	storeSilently(t, rdb, bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "after-flush", Expires: time.Now().Add(time.Hour)})
	tok := iss.MustMint(t, map[string]any{"jti": "after-flush"})
	r.refusedWithin(t, tok, time.Second)
	if n := len(r.revoker.Rules()); n != 6 {
		t.Fatalf("%d rules held; the ones read before the flush stay", n)
	}
}

// Entries that bouncer did not write are ignored, the others applied.
func TestForeignEntriesAreIgnored(t *testing.T) {
	rdb, _ := startRedis(t)
	iss, _ := bearertest.NewIssuer()
	t.Cleanup(iss.Close)
	ctx := context.Background()
	for i, junk := range []string{`not json`, `{"k":"jti","v":"x","extra":1}`, `{"k":"nope","i":"a","v":"x","a":1,"e":9999999999999999999}`, `{"k":"jti", "i":"a","v":"x","a":1,"e":1}`} {
		rdb.ZAdd(ctx, "bouncer:revocations", redis.Z{Score: float64(i + 1), Member: junk})
	}
	rdb.Set(ctx, "bouncer:revocations:seq", 4, 0)
	storeSilently(t, rdb, bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "real", Expires: time.Now().Add(time.Hour)})
	r := newReplica(t, iss, rdb.Options().Addr, bearerredis.RevocationsConfig{})
	r.start(t)
	if rules := r.revoker.Rules(); len(rules) != 1 || rules[0].Value != "real" {
		t.Fatalf("rules %+v", rules)
	}
}

// A Redis outage keeps the rules held in force and is reported; failing
// open, tokens are still judged; failing closed, every request is refused
// with 503 once the last read is older than StaleAfter; either way, the
// return of Redis is reported and ends the refusals.
func TestRedisOutage(t *testing.T) {
	for _, failClosed := range []bool{false, true} {
		t.Run(fmt.Sprint("fail closed ", failClosed), func(t *testing.T) {
			rdb, stop := startRedis(t)
			addr := rdb.Options().Addr
			iss, _ := bearertest.NewIssuer()
			t.Cleanup(iss.Close)
			r := newReplica(t, iss, addr, bearerredis.RevocationsConfig{ResyncEvery: 100 * time.Millisecond, StaleAfter: 300 * time.Millisecond, FailClosed: failClosed})
			r.start(t)
			revoked := iss.MustMint(t, map[string]any{"jti": "revoked"})
			fresh := iss.MustMint(t, nil)
			if err := r.rev.Revoke(context.Background(), bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "revoked"}); err != nil {
				t.Fatal(err)
			}
			if err := r.accepts(fresh); err != nil {
				t.Fatal(err)
			}
			stop()
			r.heard.wait(t, bearer.EventRevocationSourceFailed)
			if err := r.accepts(revoked); !errors.Is(err, bearer.ErrRevoked) {
				t.Fatalf("during the outage, a revoked token: %v", err)
			}
			time.Sleep(500 * time.Millisecond) // past StaleAfter
			err := r.accepts(fresh)
			switch {
			case failClosed && !errors.Is(err, bearer.ErrRevocationsUnavailable):
				t.Fatalf("failing closed, a good token: %v", err)
			case !failClosed && err != nil:
				t.Fatalf("failing open, a good token: %v", err)
			}
			if err := r.rev.Revoke(context.Background(), bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "local"}); err == nil {
				t.Fatal("Revoke reported no error with Redis down")
			}
			if err := r.accepts(iss.MustMint(t, map[string]any{"jti": "local"})); !errors.Is(err, bearer.ErrRevoked) && !errors.Is(err, bearer.ErrRevocationsUnavailable) {
				t.Fatalf("a rule revoked here while Redis is down is not in force here: %v", err)
			}
			restartRedis(t, addr)
			r.heard.wait(t, bearer.EventRevocationSourceRecovered)
			if err := r.accepts(fresh); err != nil {
				t.Fatalf("after Redis's return: %v", err)
			}
		})
	}
}

// A replica that cannot read Redis at start, failing closed, refuses every
// request until it can: it does not know what was revoked.
func TestFailClosedAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	iss, _ := bearertest.NewIssuer()
	t.Cleanup(iss.Close)
	r := newReplica(t, iss, addr, bearerredis.RevocationsConfig{ResyncEvery: 100 * time.Millisecond, FailClosed: true})
	if err := r.rev.Start(context.Background()); err == nil {
		t.Fatal("Start reported no error without Redis")
	}
	tok := iss.MustMint(t, nil)
	if err := r.accepts(tok); !errors.Is(err, bearer.ErrRevocationsUnavailable) {
		t.Fatalf("before the first read: %v", err)
	}
	restartRedis(t, addr)
	r.heard.wait(t, bearer.EventRevocationSourceRecovered)
	if err := r.accepts(tok); err != nil {
		t.Fatalf("after the first read: %v", err)
	}
}

// restartRedis runs a redis-server on addr, as startRedis does.
func restartRedis(t *testing.T, addr string) {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	deadline := time.Now().Add(10 * time.Second)
	for rdb.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not answer within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// heard records what an Observer hears.
type heard struct {
	mu   sync.Mutex
	all  []bearer.Event
	news chan struct{}
}

func (h *heard) Observe(e bearer.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.all = append(h.all, e)
	if h.news != nil {
		select {
		case h.news <- struct{}{}:
		default:
		}
	}
}

// wait returns once an event of kind was heard, or fails after 5 s.
func (h *heard) wait(t *testing.T, kind bearer.EventKind) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		for _, e := range h.all {
			if e.Kind == kind {
				h.mu.Unlock()
				return
			}
		}
		h.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("no %v event within 5s", kind)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
