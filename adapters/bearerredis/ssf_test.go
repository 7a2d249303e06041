package bearerredis_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/ssf"
)

// A security event pushed to one replica's Shared Signals receiver takes
// the tokens back in every replica: the receiver hands its revocations to
// the replica's Revocations, which share them through Redis.
func TestSecurityEventReachesEveryReplica(t *testing.T) {
	rdb, _ := startRedis(t)
	iss, err := bearertest.NewIssuer(bearertest.WithSSFTransmitter())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	var fleet []*replica
	for range 3 {
		r := newReplica(t, iss, rdb.Options().Addr, bearerredis.RevocationsConfig{})
		r.start(t)
		fleet = append(fleet, r)
	}
	receiver, err := ssf.New(ssf.Config{
		Transmitter: bearer.Config{Issuer: iss.URL(), Audiences: []string{"https://api.example.com/ssf"}, Logger: quiet},
		Revocations: fleet[0].rev,
		Replay:      bearerredis.New(rdb),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = receiver.Close() })
	srv := httptest.NewServer(receiver)
	t.Cleanup(srv.Close)

	tok := iss.MustMint(t, map[string]any{"sub": "user-1"})
	for _, r := range fleet {
		if err := r.accepts(tok); err != nil {
			t.Fatal(err)
		}
	}
	set, err := iss.MintSET("https://api.example.com/ssf", map[string]any{"format": "iss_sub", "iss": iss.URL(), "sub": "user-1"},
		map[string]any{bearertest.EventAccountDisabled: map[string]any{"event_timestamp": time.Now().Unix()}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(srv.URL, "application/secevent+jwt", strings.NewReader(set))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("push: %d", resp.StatusCode)
	}
	for _, r := range fleet {
		r.refusedWithin(t, tok, time.Second)
	}
}
