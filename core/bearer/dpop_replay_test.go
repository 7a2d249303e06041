package bearer_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// replayCapacity is the in-process replay store's size in these tests;
// one key may hold a sixteenth of it.
const (
	replayCapacity = 64
	replayShare    = replayCapacity / 16
)

// boundClient is a client's DPoP key and a token bound to it.
type boundClient struct {
	key *bearertest.Key
	tok string
}

func newBoundClient(t *testing.T, iss *bearertest.Issuer) boundClient {
	t.Helper()
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	return boundClient{key, iss.MustMint(t, map[string]any{"scope": "country.read", "cnf": map[string]any{"jkt": key.Thumbprint()}})}
}

// request is a DPoP request for /country/code/AUS with a fresh proof,
// dated at now.
func (c boundClient) request(t *testing.T, now time.Time) fakeRequest {
	t.Helper()
	p, err := c.key.DPoPProof(http.MethodGet, publicURL+"/country/code/AUS", c.tok, "", bearertest.WithProofClaim("iat", now.Unix()))
	if err != nil {
		t.Fatal(err)
	}
	return dpopRequest("/country/code/AUS", c.tok, p)
}

// A flood of valid proofs, each made with a key of the caller's own and a
// fresh jti, that come with a token that does not verify or is not bound
// to the proof's key, leaves the replay store as it was: a jti is
// recorded only for a token that verified and is bound to the proof's key.
// After three times the store's capacity of such requests, every genuine
// client is served, and the store still takes its whole capacity.
func TestDPoPFloodRecordsNothing(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.DPoP = &bearer.DPoP{PublicURL: publicURL, ReplayCapacity: replayCapacity}
	})
	victim := newBoundClient(t, iss)
	unbound := iss.MustMint(t, map[string]any{"scope": "country.read"})
	for i := range 3 * replayCapacity {
		attacker, err := bearertest.NewKey("ES256")
		if err != nil {
			t.Fatal(err)
		}
		var tok string
		switch i % 3 {
		case 0:
			tok = "junk-" + strconv.Itoa(i) // not a token at all
		case 1:
			tok = unbound // a genuine token bound to no key
		case 2:
			tok = victim.tok // a stolen token, bound to the victim's key
		}
		p, err := attacker.DPoPProof(http.MethodGet, publicURL+"/country/code/AUS", tok, "")
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Check(bg, dpopRequest("/country/code/AUS", tok, p))
		if err == nil {
			t.Fatalf("flood request %d accepted", i)
		}
		if s := v.Response(err).Status; s != http.StatusUnauthorized {
			t.Fatalf("flood request %d answered %d, not 401: %v", i, s, err)
		}
	}
	// The whole capacity is still there: sixteen clients, each its share.
	now := time.Now()
	for c := range 16 {
		client := newBoundClient(t, iss)
		if c == 0 {
			client = victim
		}
		for i := range replayShare {
			if _, err := v.Check(bg, client.request(t, now)); err != nil {
				t.Fatalf("client %d, request %d after the flood: %v", c, i, err)
			}
		}
	}
}

// The holder of a valid token and its key cannot take more of the store
// than one key's share: its next proof is refused with 503 and a
// Retry-After, other clients are served, and once its proofs are old
// enough to be forgotten it is served again.
func TestDPoPReplayStoreKeyShare(t *testing.T) {
	iss := newIssuer(t)
	clk := newClock()
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.Now = clk.Now
		c.DPoP = &bearer.DPoP{PublicURL: publicURL, ReplayCapacity: replayCapacity}
	})
	greedy, other := newBoundClient(t, iss), newBoundClient(t, iss)
	for i := range replayShare {
		if _, err := v.Check(bg, greedy.request(t, clk.Now())); err != nil {
			t.Fatalf("request %d within the key's share: %v", i, err)
		}
	}
	for range 3 {
		_, err := v.Check(bg, greedy.request(t, clk.Now()))
		e := wantRefusal(t, err, bearer.ErrReplayStoreUnavailable, http.StatusServiceUnavailable)
		if e.RetryAfter <= 0 || e.RetryAfter > 2*time.Minute+15*time.Second {
			t.Fatalf("RetryAfter %v", e.RetryAfter)
		}
		if resp := v.Response(err); resp.Header.Get("Retry-After") == "" || !strings.Contains(e.Description, "key") {
			t.Fatalf("answer %v, description %q", resp.Header, e.Description)
		}
	}
	for i := range replayShare {
		if _, err := v.Check(bg, other.request(t, clk.Now())); err != nil {
			t.Fatalf("another client, request %d: %v", i, err)
		}
	}
	// Proofs are remembered for 2×Window, plus at most an eighth of it.
	clk.Advance(2*time.Minute + 15*time.Second)
	for i := range replayShare {
		if _, err := v.Check(bg, greedy.request(t, clk.Now())); err != nil {
			t.Fatalf("request %d once the key's proofs expired: %v", i, err)
		}
	}
}

// A store full of live proofs refuses a new one with 503 rather than
// forget one whose replay could then pass; a replay is still told apart
// (401), and room comes back as proofs expire.
func TestDPoPReplayStoreFull(t *testing.T) {
	iss := newIssuer(t)
	clk := newClock()
	v := newVerifier(t, iss, func(c *bearer.Config) {
		c.Now = clk.Now
		c.DPoP = &bearer.DPoP{PublicURL: publicURL, ReplayCapacity: replayCapacity}
	})
	var first fakeRequest
	for c := range 16 {
		client := newBoundClient(t, iss)
		for i := range replayShare {
			req := client.request(t, clk.Now())
			if c == 0 && i == 0 {
				first = req
			}
			if _, err := v.Check(bg, req); err != nil {
				t.Fatalf("client %d, request %d: %v", c, i, err)
			}
		}
	}
	late := newBoundClient(t, iss)
	_, err := v.Check(bg, late.request(t, clk.Now()))
	e := wantRefusal(t, err, bearer.ErrReplayStoreUnavailable, http.StatusServiceUnavailable)
	if e.RetryAfter <= 0 || v.Response(err).Header.Get("Retry-After") == "" {
		t.Fatalf("no Retry-After: %+v", e)
	}
	_, err = v.Check(bg, first)
	if e := wantRefusal(t, err, bearer.ErrDPoPProof, http.StatusUnauthorized); !strings.Contains(e.Description, "used before") {
		t.Fatalf("replay into a full store: %q", e.Description)
	}
	clk.Advance(2*time.Minute + 15*time.Second)
	if _, err := v.Check(bg, late.request(t, clk.Now())); err != nil {
		t.Fatalf("once the proofs expired: %v", err)
	}
}

func TestDPoPReplayCapacityConfig(t *testing.T) {
	iss := newIssuer(t)
	if _, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience},
		DPoP: &bearer.DPoP{PublicURL: publicURL, ReplayCapacity: -1}}); err == nil {
		t.Fatal("a negative ReplayCapacity was accepted")
	}
	if _, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{testAudience},
		DPoP: &bearer.DPoP{PublicURL: publicURL, ReplayCapacity: 10, Replay: brokenStore{}}}); err == nil {
		t.Fatal("ReplayCapacity with a Replay store was accepted")
	}
}
