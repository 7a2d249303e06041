package bearer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bouncer-go/bouncer/core/internal/outage"
)

// keySource keeps the issuer's current key set. Tokens are checked against
// a snapshot read without locking. Fetching is lazy and happens one fetch at
// a time, in its own goroutine, so that no request's cancellation aborts
// work other requests wait on, and no lock is held during network I/O.
//
// Three things start a fetch: no keys held (retried with backoff up to one
// second, so requests notice an issuer's return within a second), a token
// with an unknown kid (at most once per cooldown, so forged kids cannot
// flood the issuer, yet a key published before a refetch is found by it;
// such a refetch bypasses HTTP caches), and keys past their refresh time
// (in the background: requests go on with the keys held). A failed refresh
// keeps the last good keys, up to maxStale past their refresh time.
//
// The refresh is noticed by whatever request comes first after its time,
// a cache hit included (see dueAt): no timer runs, so a verifier nobody
// uses fetches nothing and leaves nothing behind, and the schedule follows
// the configured clock.
type keySource struct {
	client   *http.Client
	issuer   string // the issuer discovery must name (a template's literal form)
	location string // the issuer URL discovery is fetched under
	// metadataURLs says where the issuer's metadata may be; nil means an
	// authorization server's places (issuerurl.DiscoveryURLs).
	metadataURLs func(string) ([]string, error)
	insecure     bool          // Config.InsecureAllowHTTP
	timeout      time.Duration // one discovery + JWKS round
	cooldown     time.Duration // least time between fetches caused by unknown kids
	maxAge       time.Duration // refresh interval when the issuer sends no caching headers
	maxStale     time.Duration // how long past its refresh time a key set stays usable
	maxKeys      int
	now          func() time.Time
	static       bool       // keys from Config.JWKS: never fetched, never expire
	source       JWKSSource // Config.JWKSSource: asked in place of fetches
	use          string     // Config.KeyUse
	tel          *telemetry // its logger and Observer hear the key events
	skipped      sync.Map   // skipped keys already logged
	// onChange, if set, learns each new key set, after it is in use.
	onChange func(*keySet)

	keys atomic.Pointer[keySet]
	// refreshAt and expireAt (Unix nanoseconds) let the hot path see
	// without locking that the keys are fresh.
	refreshAt atomic.Int64
	expireAt  atomic.Int64
	// dueAt (Unix nanoseconds) is when the key set next needs a look: the
	// earliest a refresh may start (its refresh time, or the next retry
	// after a failed one), or its expiry, whichever comes first. Before
	// it, requests and cache hits pay this one atomic load; after it, they
	// take the lock to start the refresh (see start), which moves dueAt on.
	dueAt atomic.Int64
	// gen counts the key sets that took a key away (dropped it, or gave
	// its kid to another key). A verdict is cached only if gen did not
	// move while its token was being judged: a key set that removes a key
	// purges the cache, and a verdict put after the purge must not stand.
	gen atomic.Uint64

	// ctx is the parent of every fetch; close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	jwksURL   string        // configured, or found by discovery
	intrURL   string        // introspection_endpoint, found by discovery
	fetchedAt time.Time     // last successful fetch
	attemptAt time.Time     // last fetch started
	failures  int           // consecutive failed fetches
	wait      time.Duration // least time before the next fetch after a failure
	lastErr   error         // why the last fetch failed
	inflight  chan struct{} // closed when the running fetch ends
	closed    bool          // no more fetches start
	outage    outage.Tracker
}

const (
	minRetry = 250 * time.Millisecond
	maxRetry = time.Second
	// maxRetryAfter bounds how long an issuer's Retry-After may hold back
	// fetches: requests get 503 meanwhile.
	maxRetryAfter = time.Minute
)

var errUnknownKey = tokenError(ErrUnknownKey, "no signing key of the issuer matches the token's key id")

// key returns the issuer key for kid and alg.
func (s *keySource) key(ctx context.Context, kid string, a *algorithm) (*publicKey, *Error) {
	if s.static {
		if k, ok := s.keys.Load().lookup(kid, a); ok {
			return k, nil
		}
		return nil, errUnknownKey
	}
	now := s.now().UnixNano()
	set := s.keys.Load()
	if set == nil || now >= s.expireAt.Load() {
		return s.keyCold(ctx, kid, a)
	}
	if now >= s.dueAt.Load() {
		s.start(s.refreshDue, false)
	}
	if k, ok := set.lookup(kid, a); ok {
		return k, nil
	}
	// The kid may be a key published since the last fetch: ask the issuer
	// itself, not a cache in front of it that may still hold the old set.
	if !s.sync(ctx, s.cooldownOver, true) {
		s.emit(Event{Kind: EventUnknownKeyThrottled, KeyID: kid})
		return nil, errUnknownKey
	}
	if k, ok := s.keys.Load().lookup(kid, a); ok {
		return k, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, cancelled(err)
	}
	return nil, errUnknownKey
}

// cancelled reports a request that ended while it waited for a fetch: it
// was not judged, and errors.Is(err, context.Canceled) (or
// DeadlineExceeded) holds for the application.
func cancelled(err error) *Error {
	return &Error{Err: fmt.Errorf("%w: %w", ErrIssuerUnavailable, err), Description: "the request ended while the issuer's keys were being fetched", RetryAfter: time.Second}
}

// keyCold serves a request while no usable keys are held: it fetches,
// unless the last failure is too recent, and answers 503 if that fails.
func (s *keySource) keyCold(ctx context.Context, kid string, a *algorithm) (*publicKey, *Error) {
	s.sync(ctx, s.backoffOver, false)
	set := s.keys.Load()
	if set == nil || s.now().UnixNano() >= s.expireAt.Load() {
		if err := ctx.Err(); err != nil {
			return nil, cancelled(err)
		}
		return nil, s.unavailable()
	}
	if k, ok := set.lookup(kid, a); ok {
		return k, nil
	}
	return nil, errUnknownKey
}

// ready fetches the keys now if none are usable, for applications that
// want to fail fast at start.
func (s *keySource) ready(ctx context.Context) error {
	if s.static {
		return nil
	}
	if s.keys.Load().len() > 0 && s.now().UnixNano() < s.expireAt.Load() {
		return nil
	}
	s.sync(ctx, func(time.Time) bool { return true }, false)
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.keys.Load() == nil || s.now().UnixNano() >= s.expireAt.Load() {
		return s.unavailable()
	}
	if s.keys.Load().len() == 0 { // a JWKSSource's empty answer
		return errors.New("bearer: the issuer's key set holds no usable key")
	}
	return nil
}

func (s *keySource) unavailable() *Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	wait := s.attemptAt.Add(s.backoff()).Sub(s.now())
	err := ErrIssuerUnavailable
	if s.lastErr != nil {
		err = fmt.Errorf("%w: %w", ErrIssuerUnavailable, s.lastErr)
	}
	return &Error{Err: err, Description: "the issuer's signing keys cannot be fetched", RetryAfter: max(wait, time.Second)}
}

// The due rules below are called with s.mu held.

func (s *keySource) backoff() time.Duration {
	if s.failures == 0 {
		return 0
	}
	return s.wait
}

// retryWait is the wait after the n-th consecutive failure: doubling from
// minRetry up to maxRetry, with ±20% jitter so a fleet does not retry in
// step, and never less than what the issuer asked for with Retry-After.
func retryWait(n int, retryAfter time.Duration) time.Duration {
	d := min(minRetry<<min(n-1, 8), maxRetry)
	d = time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	return max(d, min(retryAfter, maxRetryAfter))
}

func (s *keySource) backoffOver(now time.Time) bool {
	return !now.Before(s.attemptAt.Add(s.backoff()))
}

func (s *keySource) cooldownOver(now time.Time) bool {
	return !now.Before(s.attemptAt.Add(max(s.cooldown, s.backoff())))
}

func (s *keySource) refreshDue(now time.Time) bool {
	return now.UnixNano() >= s.refreshAt.Load() && s.cooldownOver(now)
}

// nextDue is what dueAt should say for the keys held: the earliest time
// refreshDue can hold, or their expiry if sooner.
func (s *keySource) nextDue() int64 {
	retry := addNanos(s.attemptAt, max(s.cooldown, s.backoff()))
	return min(max(s.refreshAt.Load(), retry), s.expireAt.Load())
}

// sync joins the fetch in flight, or starts one if due says so, and waits
// for it or for ctx. It reports whether there was a fetch to wait for.
// fresh asks a new fetch to bypass HTTP caches.
func (s *keySource) sync(ctx context.Context, due func(time.Time) bool, fresh bool) bool {
	done := s.start(due, fresh)
	if done == nil {
		return false
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	return true
}

// start returns the fetch in flight, or starts one if due says so, or
// returns nil. Either way dueAt is moved on, so that requests and cache
// hits do not come back to the lock before something can change.
func (s *keySource) start(due func(time.Time) bool, fresh bool) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return s.inflight
	}
	held := s.keys.Load() != nil
	if s.closed {
		if held {
			s.dueAt.Store(s.expireAt.Load()) // nothing to start before the keys expire
		}
		return nil
	}
	now := s.now()
	if !due(now) {
		if held {
			s.dueAt.Store(s.nextDue())
		}
		return nil
	}
	s.inflight = make(chan struct{})
	s.attemptAt = now
	if held {
		s.dueAt.Store(s.expireAt.Load()) // record sets it when the fetch ends
	}
	go s.fetch(s.inflight, s.jwksURL, fresh)
	return s.inflight
}

// heldUsable is the slow path of a cache hit that finds dueAt passed: it
// starts the refresh that is due, without waiting for it, and reports
// whether the keys held may still be used (they have not outlived
// MaxStale).
func (s *keySource) heldUsable() bool {
	s.start(s.refreshDue, false)
	return s.now().UnixNano() < s.expireAt.Load()
}

// fetch runs one fetch and records its outcome. Tokens of keys that left
// the set are forgotten (onChange) before events are reported, and both
// happen before waiters are woken.
func (s *keySource) fetch(done chan struct{}, jwksURL string, fresh bool) {
	defer close(done)
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	res := s.load(ctx, jwksURL, fresh)
	if s.ctx.Err() != nil { // closed: nobody waits for this outcome
		s.mu.Lock()
		s.inflight = nil
		s.mu.Unlock()
		return
	}
	events, tell := s.record(res)
	if res.err == nil && s.onChange != nil {
		s.onChange(res.set)
	}
	s.report(events, tell)
}

func (s *keySource) record(res loadResult) ([]Event, outage.Report) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inflight = nil
	if res.jwksURL != "" {
		s.jwksURL = res.jwksURL
	}
	if res.intrURL != "" {
		s.intrURL = res.intrURL
	}
	events := res.skipped
	now := s.now()
	old := s.keys.Load()
	if res.err != nil {
		s.failures++
		s.wait = retryWait(s.failures, retryAfterOf(res.err))
		s.lastErr = res.err
		events = append(events, Event{Kind: EventFetchFailed, Err: res.err})
		if old != nil {
			if age := now.Sub(time.Unix(0, s.refreshAt.Load())); age > 0 {
				events = append(events, Event{Kind: EventStaleKeys, Age: age, Keys: old.len()})
			}
			s.dueAt.Store(s.nextDue())
		}
		return events, s.outage.Fail(now)
	}
	events = append(events, diffKeys(old, res.set)...)
	s.keys.Store(res.set)
	if old.takenAway(res.set) {
		s.gen.Add(1) // after the store: see Verifier.rememberVerified
	}
	s.fetchedAt = now
	s.failures = 0
	s.wait = 0
	s.lastErr = nil
	fresh := freshFor(res.header, now, s.maxAge)
	s.refreshAt.Store(addNanos(now, fresh))
	s.expireAt.Store(addNanos(now, fresh+s.maxStale))
	s.dueAt.Store(s.nextDue())
	tell := s.outage.Succeed(now)
	if tell.Kind == outage.Recovered {
		events = append(events, Event{Kind: EventFetchRecovered, Failures: tell.Failures, Age: tell.Lasted, Keys: res.set.len()})
	}
	return append(events,
		Event{Kind: EventFetchSucceeded, Keys: res.set.len()},
		Event{Kind: EventRefreshScheduled, Next: fresh}), tell
}

// close stops fetching: a fetch in flight is cancelled and waited for, and
// none starts afterwards.
func (s *keySource) close() {
	s.mu.Lock()
	s.closed = true
	done := s.inflight
	s.mu.Unlock()
	s.cancel()
	if done != nil {
		<-done
	}
}

type loadResult struct {
	set     *keySet
	header  http.Header
	jwksURL string // found by discovery, if it ran
	intrURL string
	skipped []Event
	err     error
}

// load runs discovery when the JWKS URL is not yet known, then reads the
// key set; fresh bypasses HTTP caches.
func (s *keySource) load(ctx context.Context, jwksURL string, fresh bool) (res loadResult) {
	if s.source != nil {
		return s.loadSource(ctx)
	}
	if jwksURL == "" {
		md, err := discover(ctx, s.client, s.metadataURLs, s.location, s.issuer)
		if err != nil {
			res.err = err
			return res
		}
		jwksURL, res.jwksURL = md.JWKSURL, md.JWKSURL
		res.intrURL = md.IntrospectionURL
	}
	if err := secureURL(jwksURL, s.insecure); err != nil {
		res.err = fmt.Errorf("jwks_uri: %w", err)
		return res
	}
	body, header, err := fetchDocument(ctx, s.client, jwksURL, fresh)
	if err != nil {
		res.err = fmt.Errorf("jwks: %w", err)
		return res
	}
	set, skipped, err := parseKeySet(body, s.maxKeys, s.use)
	if err != nil {
		res.err = fmt.Errorf("jwks: %w", err)
		return res
	}
	for _, k := range skipped {
		res.skipped = append(res.skipped, Event{Kind: EventKeySkipped, KeyID: k.kid, Err: errors.New(k.reason)})
	}
	if set.len() == 0 {
		res.err = errors.New("jwks: no usable signing key")
		return res
	}
	res.set, res.header = set, header
	return res
}

// loadSource asks the JWKSSource for the keys. Unlike a fetched set, the
// source's answer stands even when it holds no usable key (see
// JWKSSource).
func (s *keySource) loadSource(ctx context.Context) (res loadResult) {
	body, err := s.source.JWKS(ctx)
	if err == nil && len(body) > maxDocumentBytes {
		err = fmt.Errorf("larger than %d bytes", maxDocumentBytes)
	}
	if err != nil {
		res.err = fmt.Errorf("jwks source: %w", err)
		return res
	}
	set, skipped, err := parseKeySet(body, s.maxKeys, s.use)
	if err != nil {
		res.err = fmt.Errorf("jwks source: %w", err)
		return res
	}
	for _, k := range skipped {
		res.skipped = append(res.skipped, Event{Kind: EventKeySkipped, KeyID: k.kid, Err: errors.New(k.reason)})
	}
	res.set = set
	return res
}

// addNanos is t+d in Unix nanoseconds, saturating instead of overflowing.
func addNanos(t time.Time, d time.Duration) int64 {
	n := t.UnixNano()
	if d > 0 && n > math.MaxInt64-int64(d) {
		return math.MaxInt64
	}
	return n + int64(d)
}

// useStatic makes body, a JWKS, the only keys, for good.
func (s *keySource) useStatic(body []byte) error {
	set, skipped, err := parseKeySet(body, s.maxKeys, s.use)
	if err != nil {
		return err
	}
	for _, k := range skipped {
		s.emit(Event{Kind: EventKeySkipped, KeyID: k.kid, Err: errors.New(k.reason)})
	}
	if set.len() == 0 {
		return errors.New("the JWKS holds no usable signing key")
	}
	s.static = true
	s.keys.Store(set)
	s.fetchedAt = s.now()
	s.refreshAt.Store(math.MaxInt64)
	s.expireAt.Store(math.MaxInt64)
	s.dueAt.Store(math.MaxInt64)
	return nil
}

// introspectionURL is the introspection_endpoint of the issuer's metadata,
// read by the key fetch's discovery (or on its own when the JWKS URL is
// configured and discovery does not otherwise run).
func (s *keySource) introspectionURL(ctx context.Context) (string, error) {
	s.mu.Lock()
	u := s.intrURL
	s.mu.Unlock()
	if u != "" {
		return u, nil
	}
	md, err := discover(ctx, s.client, s.metadataURLs, s.location, s.issuer)
	if err != nil {
		return "", err
	}
	if md.IntrospectionURL == "" {
		return "", errors.New("the issuer's metadata names no introspection_endpoint: set Introspection.URL")
	}
	if err := secureURL(md.IntrospectionURL, s.insecure); err != nil {
		return "", fmt.Errorf("introspection_endpoint: %w", err)
	}
	s.mu.Lock()
	s.intrURL = md.IntrospectionURL
	s.mu.Unlock()
	return md.IntrospectionURL, nil
}

// diffKeys reports the keys that left old and those that joined next. A
// kid given to another key is both: the old key removed, the new added.
func diffKeys(old, next *keySet) []Event {
	var events []Event
	if old != nil {
		for id, k := range old.byID {
			if !next.holds(id, k) {
				events = append(events, Event{Kind: EventKeyRemoved, KeyID: id})
			}
		}
	}
	for id, k := range next.byID {
		if old == nil || !old.holds(id, k) {
			events = append(events, Event{Kind: EventKeyAdded, KeyID: id})
		}
	}
	return events
}
