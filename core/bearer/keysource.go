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
)

// keySource keeps the issuer's current key set. Tokens are checked against
// a snapshot read without locking. Fetching is lazy and happens one fetch at
// a time, in its own goroutine, so that no request's cancellation aborts
// work other requests wait on, and no lock is held during network I/O.
//
// Three things start a fetch: no keys held (retried with backoff up to one
// second, so requests notice an issuer's return within a second), a token
// with an unknown kid (at most once per cooldown, so forged kids cannot
// flood the issuer, yet a key published before a refetch is found by it),
// and keys past their refresh time (in the background: requests go on with
// the keys held). A failed refresh keeps the last good keys, up to maxStale
// past their refresh time.
type keySource struct {
	client   *http.Client
	issuer   string        // the issuer discovery must name (a template's literal form)
	location string        // the issuer URL discovery is fetched under
	insecure bool          // Config.InsecureAllowHTTP
	timeout  time.Duration // one discovery + JWKS round
	cooldown time.Duration // least time between fetches caused by unknown kids
	maxAge   time.Duration // refresh interval when the issuer sends no caching headers
	maxStale time.Duration // how long past its refresh time a key set stays usable
	maxKeys  int
	now      func() time.Time
	static   bool       // keys from Config.JWKS: never fetched, never expire
	tel      *telemetry // its logger and Observer hear the key events
	skipped  sync.Map   // skipped keys already logged
	// onChange, if set, learns each new key set, after it is in use.
	onChange func(*keySet)

	keys atomic.Pointer[keySet]
	// refreshAt and expireAt (Unix nanoseconds) let the hot path see
	// without locking that the keys are fresh.
	refreshAt atomic.Int64
	expireAt  atomic.Int64

	mu        sync.Mutex
	jwksURL   string        // configured, or found by discovery
	intrURL   string        // introspection_endpoint, found by discovery
	fetchedAt time.Time     // last successful fetch
	attemptAt time.Time     // last fetch started
	failures  int           // consecutive failed fetches
	wait      time.Duration // least time before the next fetch after a failure
	lastErr   error         // why the last fetch failed
	inflight  chan struct{} // closed when the running fetch ends
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
	if now >= s.refreshAt.Load() {
		s.start(s.refreshDue)
	}
	if k, ok := set.lookup(kid, a); ok {
		return k, nil
	}
	if !s.sync(ctx, s.cooldownOver) {
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
	s.sync(ctx, s.backoffOver)
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
	if s.keys.Load() != nil && s.now().UnixNano() < s.expireAt.Load() {
		return nil
	}
	s.sync(ctx, func(time.Time) bool { return true })
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.keys.Load() == nil || s.now().UnixNano() >= s.expireAt.Load() {
		return s.unavailable()
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

// sync joins the fetch in flight, or starts one if due says so, and waits
// for it or for ctx. It reports whether there was a fetch to wait for.
func (s *keySource) sync(ctx context.Context, due func(time.Time) bool) bool {
	done := s.start(due)
	if done == nil {
		return false
	}
	select {
	case <-done:
	case <-ctx.Done():
	}
	return true
}

func (s *keySource) start(due func(time.Time) bool) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return s.inflight
	}
	now := s.now()
	if !due(now) {
		return nil
	}
	s.inflight = make(chan struct{})
	s.attemptAt = now
	go s.fetch(s.inflight, s.jwksURL)
	return s.inflight
}

// fetch runs one fetch and records its outcome; events are emitted after
// the lock is released and before waiters are woken.
func (s *keySource) fetch(done chan struct{}, jwksURL string) {
	defer close(done)
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	res := s.load(ctx, jwksURL)
	s.emit(s.record(res)...)
	if res.err == nil && s.onChange != nil {
		s.onChange(res.set)
	}
}

func (s *keySource) record(res loadResult) []Event {
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
	if res.err != nil {
		s.failures++
		s.wait = retryWait(s.failures, retryAfterOf(res.err))
		s.lastErr = res.err
		events = append(events, Event{Kind: EventFetchFailed, Err: res.err})
		if old := s.keys.Load(); old != nil {
			if age := now.Sub(time.Unix(0, s.refreshAt.Load())); age > 0 {
				events = append(events, Event{Kind: EventStaleKeys, Age: age, Keys: old.len()})
			}
		}
		return events
	}
	events = append(events, diffKeys(s.keys.Load(), res.set)...)
	s.keys.Store(res.set)
	s.fetchedAt = now
	s.failures = 0
	s.wait = 0
	s.lastErr = nil
	fresh := freshFor(res.header, now, s.maxAge)
	s.refreshAt.Store(addNanos(now, fresh))
	s.expireAt.Store(addNanos(now, fresh+s.maxStale))
	return append(events,
		Event{Kind: EventFetchSucceeded, Keys: res.set.len()},
		Event{Kind: EventRefreshScheduled, Next: fresh})
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
// key set.
func (s *keySource) load(ctx context.Context, jwksURL string) (res loadResult) {
	if jwksURL == "" {
		md, err := discover(ctx, s.client, s.location, s.issuer)
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
	body, header, err := getDocument(ctx, s.client, jwksURL)
	if err != nil {
		res.err = fmt.Errorf("jwks: %w", err)
		return res
	}
	set, skipped, err := parseJWKS(body, s.maxKeys)
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
	set, skipped, err := parseJWKS(body, s.maxKeys)
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
	md, err := discover(ctx, s.client, s.location, s.issuer)
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

func diffKeys(old, next *keySet) []Event {
	var events []Event
	for id := range next.byID {
		if old == nil || old.byID[id] == nil {
			events = append(events, Event{Kind: EventKeyAdded, KeyID: id})
		}
	}
	if old != nil {
		for id := range old.byID {
			if next.byID[id] == nil {
				events = append(events, Event{Kind: EventKeyRemoved, KeyID: id})
			}
		}
	}
	return events
}
