package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/ssf"
)

// revocations are the rules a Gateway's verifiers refuse tokens by: a
// bearer.Revoker, and, when they are shared through Redis, the
// bearerredis.Revocations that keeps it up to date (a subscription and a
// resync loop, with a Redis client of its own).
//
// A reload builds a new Gateway, but it must not forget a rule: when the
// revocation settings are unchanged, the new Gateway takes the running
// one's revocations over (they are counted, and stopped when the last
// Gateway using them closes); when they changed, the new Revoker starts
// with the running one's rules, then reads Redis in full. Either way
// nothing is subscribed twice for long, and nothing outlives its last
// user.
type revocations struct {
	key     string // the settings they were built from
	revoker *bearer.Revoker
	fleet   *bearerredis.Revocations // nil when the rules are not shared
	rdb     *redis.Client

	mu   sync.Mutex
	refs int
}

// sink is where new rules go: every replica through Redis, or this
// process's Revoker.
func (r *revocations) sink() bearer.RevocationSink {
	if r.fleet != nil {
		return r.fleet
	}
	return r.revoker
}

// acquire takes r for another Gateway; false if r is stopped already.
func (r *revocations) acquire() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refs == 0 {
		return false
	}
	r.refs++
	return true
}

// release gives r up; the last user stops it.
func (r *revocations) release() {
	r.mu.Lock()
	r.refs--
	last := r.refs == 0
	r.mu.Unlock()
	if !last {
		return
	}
	if r.fleet != nil {
		_ = r.fleet.Close()
	}
	if r.rdb != nil {
		_ = r.rdb.Close()
	}
}

// revocationKey is what must be equal for a reload to keep the running
// revocations.
func (c *Config) revocationKey() string {
	rv := *c.Revocation
	rv.SSF = nil // receivers belong to each Gateway
	key := fmt.Sprintf("%+v", rv)
	if c.sharesRevocations() {
		key += fmt.Sprintf("|%s|%s|%s|%v", c.Redis.URL, c.Redis.Password, c.Redis.Prefix, c.Redis.Timeout)
	}
	return key
}

// firstReadTimeout bounds the first complete read of Redis's rules when a
// Gateway is built; the following goes on in the background.
const firstReadTimeout = 10 * time.Second

// newRevocations builds the revocations of cfg, or takes previous over
// (see revocations). start follows Redis at once; without it (a check of
// the file) nothing is contacted.
func newRevocations(cfg *Config, previous *revocations, start bool, log *slog.Logger, observer bearer.Observer) (*revocations, error) {
	key := cfg.revocationKey()
	if previous != nil && previous.key == key && previous.acquire() {
		return previous, nil
	}
	rv := cfg.Revocation
	revoker, err := bearer.NewRevoker(bearer.RevokerConfig{Retention: rv.Retention, MaxRules: rv.MaxRules, Logger: log, Observer: observer})
	if err != nil {
		return nil, cfg.errorAt("revocation", "%s", fileNames(err))
	}
	r := &revocations{key: key, revoker: revoker, refs: 1}
	if previous != nil {
		// Settings changed: the rules held stay in force, whatever new
		// source confirms them.
		if err := revoker.Revoke(context.Background(), previous.revoker.Rules()...); err != nil {
			log.Error("gateway: some revocations held could not be carried over to the new configuration", "err", err.Error())
		}
	}
	if !cfg.sharesRevocations() {
		return r, nil
	}
	ropts, err := redis.ParseURL(cfg.Redis.URL)
	if err != nil {
		return nil, cfg.errorAt("redis.url", "%v", err)
	}
	if cfg.Redis.Password != "" {
		ropts.Password = cfg.Redis.Password
	}
	r.rdb = redis.NewClient(ropts)
	r.fleet, err = bearerredis.NewRevocations(r.rdb, revoker, bearerredis.RevocationsConfig{
		Prefix:      cfg.Redis.Prefix,
		Timeout:     cfg.Redis.Timeout,
		ResyncEvery: rv.ResyncEvery,
		FailClosed:  rv.FailClosed,
		StaleAfter:  rv.StaleAfter,
		Logger:      log,
	})
	if err != nil {
		_ = r.rdb.Close()
		return nil, cfg.errorAt("revocation", "%v", err)
	}
	if start {
		ctx, cancel := context.WithTimeout(context.Background(), firstReadTimeout)
		defer cancel()
		// Its failure is the Revoker's to report (and, failing closed, to
		// act on); the following goes on and repairs it.
		_ = r.fleet.Start(ctx)
	}
	return r, nil
}

// newReceivers builds the Shared Signals receivers of cfg, by path, each
// handing its rules to sink. With Redis, the events' jti are remembered
// there, so that replicas behind one push endpoint apply an event once.
func newReceivers(cfg *Config, sink bearer.RevocationSink, replay bearer.ReplayStore, log *slog.Logger, observer bearer.Observer) (map[string]*ssf.Receiver, error) {
	out := map[string]*ssf.Receiver{}
	for i, r := range cfg.Revocation.SSF {
		rc := ssf.Config{
			Transmitter: bearer.Config{
				Issuer:            r.IssuerURI,
				JWKSURL:           r.JWKSetURI,
				Audiences:         []string{r.Audience},
				InsecureAllowHTTP: r.InsecureAllowHTTP,
				Logger:            log,
				Observer:          observer,
			},
			Revocations:         sink,
			Issuers:             r.Issuers,
			AuthorizationHeader: r.AuthorizationHeader,
			MaxAge:              r.MaxAge,
			MaxBytes:            r.MaxBytes,
			Replay:              replay,
		}
		rec, err := ssf.New(rc)
		if err != nil {
			closeReceivers(out)
			return nil, cfg.errorAt(fmt.Sprintf("revocation.ssf[%d]", i), "%s", ssfNames.Replace(err.Error()))
		}
		out[r.Path] = rec
	}
	return out, nil
}

// ssfNames are the names package ssf's errors give settings, and the
// file's.
var ssfNames = strings.NewReplacer("ssf: ", "", "Config.Transmitter.Audiences", "audience", "Config.Transmitter.", "", "Config.", "")

func closeReceivers(rs map[string]*ssf.Receiver) {
	for _, r := range rs {
		_ = r.Close()
	}
}

// serveSSF is the push endpoint at the request's path, if g has one.
func (g *Gateway) serveSSF(w http.ResponseWriter, r *http.Request) bool {
	rec := g.ssf[r.URL.Path]
	if rec == nil {
		return false
	}
	rec.ServeHTTP(w, r)
	return true
}
