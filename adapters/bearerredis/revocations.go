package bearerredis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Revocations shares token revocations (see bearer.Revoker) between the
// replicas of an API through Redis, so that a token revoked through one
// replica, by the bouncer revoke command or by a Shared Signals event, is
// refused by every replica within a second.
//
// A revocation is stored in Redis (a sorted set, each rule under its own
// sequence number) and announced on a pub/sub channel, in one atomic
// script; every replica applies it to its Revoker as the message arrives,
// which drops what it covers from the replica's token caches. A message
// can be missed (a reconnect, a replica that was starting): each replica
// also reads, every ResyncEvery and after every reconnect, the rules
// stored since the last one it holds, and one whose sequence number skips
// ahead makes it read at once. A replica that starts reads them all.
//
// A Redis outage keeps the rules held in force and is reported by the
// Revoker (bearer.Revoker.SourceFailed: an event and a log line). Whether
// requests are then still judged (fail open, the default) or refused with
// 503 (FailClosed) is RevocationsConfig.FailClosed.
type Revocations struct {
	rdb     redis.UniversalClient
	revoker *bearer.Revoker
	cfg     RevocationsConfig
	keys    revocationKeys

	mu      sync.Mutex
	epoch   string    // the Redis data set lastSeq counts in
	lastSeq int64     // the highest sequence number applied in order
	lastOK  time.Time // the last time Redis was read in full
	failing bool

	kick    chan struct{}
	sub     *redis.PubSub
	cancel  context.CancelFunc
	done    sync.WaitGroup
	started bool
}

var _ bearer.RevocationSink = (*Revocations)(nil)

// RevocationsConfig configures Revocations. The zero value means the
// defaults.
type RevocationsConfig struct {
	// Prefix is put before every key and the channel name, for a Redis
	// shared with other applications; every replica must use the same.
	Prefix string

	// Timeout bounds each Redis call. Zero means one second.
	Timeout time.Duration

	// ResyncEvery is how often a replica reads the rules stored since the
	// last one it holds, to repair a missed message. Zero means one
	// second; at least 100 ms.
	ResyncEvery time.Duration

	// FailClosed makes the verifiers using the Revoker answer 503
	// (bearer.ErrRevocationsUnavailable) while Redis cannot be read and
	// the last complete read is older than StaleAfter, and until the
	// first complete read at start. By default they go on judging tokens
	// with the rules already held: see the README's Revocation section
	// for the trade-off.
	FailClosed bool

	// StaleAfter is how long after the last complete read a failing Redis
	// makes requests fail, with FailClosed. Zero means three times
	// ResyncEvery.
	StaleAfter time.Duration

	// Logger hears entries of Redis that are not revocations (written by
	// something else than bouncer). Outages are reported by the Revoker.
	// Nil means slog.Default().
	Logger *slog.Logger

	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// revocationKeys are the Redis names of one prefix.
type revocationKeys struct {
	epoch   string // a random name of the data set, set by its first rule
	seq     string // INCR counter of rules stored
	rules   string // sorted set: encoded rule, scored by its sequence number
	expiry  string // sorted set: encoded rule, scored by its end (Unix ms)
	channel string
}

// source is the name Revocations reports its outages under.
const source = "redis"

// pageSize bounds the rules read from Redis in one call.
const pageSize = 10_000

// maxEntryBytes bounds a stored rule; longer entries are not rules bouncer
// wrote.
const maxEntryBytes = 8 << 10

// NewRevocations shares the rules of revoker through rdb. It contacts
// nothing: Start reads Redis and follows it; without Start, Revoke only
// publishes (as the bouncer revoke command does) and Sync reads once. A
// nil revoker is allowed for a process that only publishes and reads.
func NewRevocations(rdb redis.UniversalClient, revoker *bearer.Revoker, cfg RevocationsConfig) (*Revocations, error) {
	if rdb == nil {
		return nil, errors.New("bearerredis: NewRevocations needs a Redis client")
	}
	if cfg.Timeout < 0 || cfg.ResyncEvery < 0 || cfg.StaleAfter < 0 {
		return nil, errors.New("bearerredis: RevocationsConfig durations must not be negative")
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Second
	}
	if cfg.ResyncEvery == 0 {
		cfg.ResyncEvery = time.Second
	}
	cfg.ResyncEvery = max(cfg.ResyncEvery, 100*time.Millisecond)
	if cfg.StaleAfter == 0 {
		cfg.StaleAfter = 3 * cfg.ResyncEvery
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if revoker == nil {
		var err error
		if revoker, err = bearer.NewRevoker(bearer.RevokerConfig{Logger: slog.New(slog.DiscardHandler), Now: cfg.Now}); err != nil {
			return nil, err
		}
	}
	base := cfg.Prefix + "bouncer:revocations"
	return &Revocations{
		rdb:     rdb,
		revoker: revoker,
		cfg:     cfg,
		keys:    revocationKeys{epoch: base + ":epoch", seq: base + ":seq", rules: base, expiry: base + ":expiry", channel: base},
		kick:    make(chan struct{}, 1),
	}, nil
}

// Start reads every rule stored in Redis into the Revoker, then follows
// Redis in the background until Close: the pub/sub channel, and a read of
// what is new every ResyncEvery. Its error is the first read's; the
// following goes on all the same, and reports Redis's return.
func (s *Revocations) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return errors.New("bearerredis: Revocations started twice")
	}
	s.started = true
	s.mu.Unlock()
	err := s.Sync(ctx)
	bg, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.sub = s.rdb.Subscribe(bg, s.keys.channel)
	s.done.Add(2)
	go s.listen(bg, s.sub)
	go s.resync(bg)
	return err
}

// Close stops following Redis. The rules held stay in the Revoker.
func (s *Revocations) Close() error {
	if s.cancel != nil {
		s.cancel()
		_ = s.sub.Close() // ends a Receive in progress
	}
	s.done.Wait()
	return nil
}

// Revoke applies rules in this replica at once, then stores and announces
// them for every other replica. A rule the Revoker refuses is published to
// none. An error after that means the rules are in force here but may not
// have reached the other replicas: revoke again once Redis is back.
func (s *Revocations) Revoke(ctx context.Context, rules ...bearer.Revocation) error {
	now := s.cfg.Now()
	keep := s.revoker.Retention() + bearer.MaxLeeway
	rules = slices.Clone(rules) // filled in below: the caller's stay as they are
	for i := range rules {
		r := &rules[i]
		if r.At.IsZero() {
			r.At = now
		}
		if r.Source == "" {
			r.Source = "api"
		}
		if r.Expires.IsZero() {
			from := r.At
			if r.Kind == bearer.RevokeClientBefore || r.Kind == bearer.RevokeSubjectBefore {
				from = r.Before
			}
			r.Expires = from.Add(keep)
		}
	}
	if err := s.revoker.Revoke(ctx, rules...); err != nil {
		return err
	}
	keys := []string{s.keys.seq, s.keys.rules, s.keys.expiry, s.keys.channel, s.keys.epoch}
	epoch := newEpoch()
	// A script holds Redis while it runs: many rules go in several.
	for batch := range slices.Chunk(rules, publishBatch) {
		args := []any{now.UnixMilli(), epoch}
		for _, r := range batch {
			entry, err := encodeRule(r)
			if err != nil {
				return err
			}
			args = append(args, entry, r.Expires.UnixMilli())
		}
		call, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		err := publishScript.Run(call, s.rdb, keys, args...).Err()
		cancel()
		if err != nil {
			return fmt.Errorf("bearerredis: the revocation is in force in this replica but could not be shared: %w", err)
		}
	}
	return nil
}

// publishBatch is how many rules one script stores.
const publishBatch = 500

// publishScript stores rules (ARGV: now in Unix ms, an epoch for a data
// set that has none yet, then each encoded rule and its end in Unix ms)
// each under the next sequence number, announces each as "<seq> <rule>",
// and drops rules that have ended. Redis runs it atomically: the order of
// the sequence numbers is the order of the announcements.
var publishScript = redis.NewScript(`
redis.call('SET', KEYS[5], ARGV[2], 'NX')
local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, member in ipairs(expired) do
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZREM', KEYS[3], member)
end
for i = 3, #ARGV, 2 do
  local seq = redis.call('INCR', KEYS[1])
  redis.call('ZADD', KEYS[2], seq, ARGV[i])
  redis.call('ZADD', KEYS[3], ARGV[i+1], ARGV[i])
  redis.call('PUBLISH', KEYS[4], seq .. ' ' .. ARGV[i])
end
return redis.call('GET', KEYS[1])
`)

// Sync reads the rules stored since the last one applied (all of them the
// first time, or after Redis lost its data) into the Revoker.
func (s *Revocations) Sync(ctx context.Context) error {
	err := s.sync(ctx)
	if err != nil {
		s.failed(err)
		return fmt.Errorf("bearerredis: revocations: %w", err)
	}
	s.recovered()
	return nil
}

func (s *Revocations) sync(ctx context.Context) error {
	s.mu.Lock()
	from, epoch := s.lastSeq, s.epoch
	s.mu.Unlock()
	call, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	state, err := s.rdb.MGet(call, s.keys.epoch, s.keys.seq).Result()
	cancel()
	if err != nil {
		return err
	}
	nowEpoch, _ := state[0].(string)
	seqText, _ := state[1].(string)
	var seq int64
	if seqText != "" {
		if seq, err = strconv.ParseInt(seqText, 10, 64); err != nil {
			return fmt.Errorf("%s is not a number", s.keys.seq)
		}
	}
	reset := nowEpoch != epoch || seq < from
	if reset {
		from = 0 // another data set (Redis lost its data, or was flushed): read all it holds
	}
	last := from
	for {
		call, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		page, err := s.rdb.ZRangeByScoreWithScores(call, s.keys.rules, &redis.ZRangeBy{
			Min: "(" + strconv.FormatInt(last, 10), Max: "+inf", Count: pageSize,
		}).Result()
		cancel()
		if err != nil {
			return err
		}
		rules := make([]bearer.Revocation, 0, len(page))
		for _, z := range page {
			last = max(last, int64(z.Score))
			if r, ok := s.decode(z.Member); ok {
				rules = append(rules, r)
			}
		}
		if err := s.apply(ctx, rules); err != nil {
			return err
		}
		if len(page) < pageSize {
			break
		}
	}
	s.mu.Lock()
	if reset {
		s.epoch, s.lastSeq = nowEpoch, max(last, seq)
	} else {
		s.lastSeq = max(s.lastSeq, last, seq)
	}
	s.mu.Unlock()
	return nil
}

// newEpoch names a new data set of revocations.
func newEpoch() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// apply hands rules to the Revoker; rules that ended are skipped by it.
func (s *Revocations) apply(ctx context.Context, rules []bearer.Revocation) error {
	if len(rules) == 0 {
		return nil
	}
	err := s.revoker.Revoke(ctx, rules...)
	if err == nil {
		return nil
	}
	// One rule the Revoker refuses (written by a newer bouncer, say) must
	// not keep the others out.
	var errs []error
	for _, r := range rules {
		if err := s.revoker.Revoke(ctx, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// listen applies the rules announced on the channel as they come, and
// reads what it may have missed after every (re)subscription.
func (s *Revocations) listen(ctx context.Context, sub *redis.PubSub) {
	defer s.done.Done()
	wait := minBackoff
	for {
		msg, err := sub.ReceiveTimeout(ctx, idlePing)
		if ctx.Err() != nil {
			return
		}
		var timeout net.Error
		if errors.As(err, &timeout) && timeout.Timeout() {
			// Nothing announced for a while: make sure the connection
			// still carries announcements (a Pong comes back).
			if err := sub.Ping(ctx); err != nil && ctx.Err() == nil {
				s.failed(err)
			}
			continue
		}
		if err != nil {
			s.failed(err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, maxBackoff)
			continue
		}
		wait = minBackoff
		switch m := msg.(type) {
		case *redis.Subscription:
			s.wake() // messages may have been missed before it
		case *redis.Message:
			s.announced(ctx, m.Payload)
		}
	}
}

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = time.Second
	// idlePing is how long the subscription may be silent before it is
	// pinged.
	idlePing = 30 * time.Second
)

// announced applies one announced rule, "<seq> <rule>". A sequence number
// that skips ahead means messages were missed: Redis is read at once.
func (s *Revocations) announced(ctx context.Context, payload string) {
	seqText, entry, ok := strings.Cut(payload, " ")
	seq, err := strconv.ParseInt(seqText, 10, 64)
	if !ok || err != nil {
		s.cfg.Logger.Warn("bearerredis: a message on the revocation channel is not a revocation; ignored", "channel", s.keys.channel)
		return
	}
	r, valid := s.decode(entry)
	if valid {
		if err := s.revoker.Revoke(ctx, r); err != nil {
			s.cfg.Logger.Warn("bearerredis: an announced revocation was refused", "err", err)
		}
	}
	s.mu.Lock()
	skipped := seq > s.lastSeq+1
	if seq == s.lastSeq+1 {
		s.lastSeq = seq
	}
	s.mu.Unlock()
	if skipped {
		s.wake()
	}
}

// resync reads what is new every ResyncEvery, and when woken.
func (s *Revocations) resync(ctx context.Context) {
	defer s.done.Done()
	t := time.NewTicker(s.cfg.ResyncEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
		_ = s.Sync(ctx)
	}
}

func (s *Revocations) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// failed reports a failed read to the Revoker, which refuses requests
// once the last complete read is older than StaleAfter, if FailClosed.
func (s *Revocations) failed(err error) {
	s.mu.Lock()
	s.failing = true
	stale := s.lastOK.IsZero() || s.cfg.Now().Sub(s.lastOK) > s.cfg.StaleAfter
	s.mu.Unlock()
	s.revoker.SourceFailed(source, err, s.cfg.FailClosed && stale)
}

func (s *Revocations) recovered() {
	s.mu.Lock()
	was := s.failing
	s.failing, s.lastOK = false, s.cfg.Now()
	s.mu.Unlock()
	if was {
		s.revoker.SourceRecovered(source)
	}
}

// Rules reads the rules stored in Redis that are still in force, as a
// replica would apply them.
func (s *Revocations) Rules(ctx context.Context) ([]bearer.Revocation, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	now := s.cfg.Now()
	members, err := s.rdb.ZRangeByScore(ctx, s.keys.expiry, &redis.ZRangeBy{Min: "(" + strconv.FormatInt(now.UnixMilli(), 10), Max: "+inf"}).Result()
	if err != nil {
		return nil, fmt.Errorf("bearerredis: revocations: %w", err)
	}
	var out []bearer.Revocation
	for _, m := range members {
		if r, ok := s.decode(m); ok && r.Expires.After(now) {
			out = append(out, r)
		}
	}
	return out, nil
}

// decode reads a stored rule; what is not one is reported and skipped.
func (s *Revocations) decode(entry any) (bearer.Revocation, bool) {
	text, _ := entry.(string)
	r, err := decodeRule(text)
	if err != nil {
		s.cfg.Logger.Warn("bearerredis: an entry of the revocation set is not a revocation; ignored", "key", s.keys.rules, "err", err)
		return bearer.Revocation{}, false
	}
	return r, true
}

// wireRule is a rule as Redis stores it: compact, times in Unix
// nanoseconds, the same rule always the same bytes.
type wireRule struct {
	Kind    bearer.RevocationKind `json:"k"`
	Issuer  string                `json:"i,omitempty"`
	Value   string                `json:"v"`
	Before  int64                 `json:"b,omitempty"`
	At      int64                 `json:"a,omitempty"`
	Expires int64                 `json:"e,omitempty"`
	Source  string                `json:"s,omitempty"`
	Reason  string                `json:"r,omitempty"`
}

func encodeRule(r bearer.Revocation) (string, error) {
	w := wireRule{Kind: r.Kind, Issuer: r.Issuer, Value: r.Value, Before: unixNano(r.Before), At: unixNano(r.At), Expires: unixNano(r.Expires), Source: r.Source, Reason: r.Reason}
	b, err := json.Marshal(w)
	return string(b), err
}

// decodeRule reads an entry strictly: one JSON object of wireRule's
// members and nothing else, within maxEntryBytes. The Revoker judges the
// rule itself.
func decodeRule(entry string) (bearer.Revocation, error) {
	if len(entry) > maxEntryBytes {
		return bearer.Revocation{}, fmt.Errorf("entry of %d bytes", len(entry))
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(entry)))
	dec.DisallowUnknownFields()
	var w wireRule
	if err := dec.Decode(&w); err != nil {
		return bearer.Revocation{}, err
	}
	if dec.More() {
		return bearer.Revocation{}, errors.New("data after the rule")
	}
	if canonical, err := encodeRule(w.rule()); err != nil || canonical != entry {
		return bearer.Revocation{}, errors.New("not in the form bouncer writes")
	}
	return w.rule(), nil
}

func (w wireRule) rule() bearer.Revocation {
	r := bearer.Revocation{Kind: w.Kind, Issuer: w.Issuer, Value: w.Value, Source: w.Source, Reason: w.Reason}
	r.Before, r.At, r.Expires = unixTime(w.Before), unixTime(w.At), unixTime(w.Expires)
	return r
}

// unixTime reads Unix nanoseconds, 0 as the zero time.
func unixTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// unixNano writes a time as unixTime reads it.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
