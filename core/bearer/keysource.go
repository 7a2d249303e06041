package bearer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// keySource keeps the issuer's current key set. Tokens are checked against
// a snapshot read without locking; fetching happens lazily, one fetch at a
// time, in its own goroutine so that no request's cancellation aborts work
// other requests wait on, and no lock is held during network I/O.
type keySource struct {
	client   *http.Client
	issuer   string
	timeout  time.Duration // one discovery + JWKS round
	cooldown time.Duration // least time between fetches caused by unknown kids
	maxAge   time.Duration // age after which keys are refreshed in the background
	maxKeys  int
	now      func() time.Time
	log      *slog.Logger

	keys atomic.Pointer[keySet]
	// refreshAt (Unix nanoseconds) lets the hot path see without locking
	// that the keys are not yet due for a refresh.
	refreshAt atomic.Int64

	mu        sync.Mutex
	jwksURL   string        // configured, or found by discovery
	fetchedAt time.Time     // last successful fetch
	attemptAt time.Time     // last fetch started
	failures  int           // consecutive failed fetches
	lastErr   error         // why the last fetch failed
	inflight  chan struct{} // closed when the running fetch ends
}

const (
	minRetry = 250 * time.Millisecond
	maxRetry = time.Second
)

// key returns the issuer key for kid and alg, fetching the key set when
// none is held yet, or refetching (at most once per cooldown) when kid is
// unknown, so a key the issuer has just rotated in is found.
func (s *keySource) key(ctx context.Context, kid string, a *algorithm) (*publicKey, *Error) {
	set := s.keys.Load()
	if set != nil {
		if k, ok := set.lookup(kid, a); ok {
			s.refreshIfOld()
			return k, nil
		}
		if s.sync(ctx, s.cooldownOver) {
			if k, ok := s.keys.Load().lookup(kid, a); ok {
				return k, nil
			}
		}
		return nil, tokenError(ErrUnknownKey, "no signing key of the issuer matches the token's key id")
	}
	s.sync(ctx, s.backoffOver)
	if set = s.keys.Load(); set == nil {
		return nil, s.unavailable()
	}
	if k, ok := set.lookup(kid, a); ok {
		return k, nil
	}
	return nil, tokenError(ErrUnknownKey, "no signing key of the issuer matches the token's key id")
}

// ready fetches the keys now if none are held, for applications that want
// to fail fast at start.
func (s *keySource) ready(ctx context.Context) error {
	if s.keys.Load() != nil {
		return nil
	}
	s.sync(ctx, func(time.Time) bool { return true })
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.keys.Load() == nil {
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
	return &Error{Err: err, Description: "the issuer's signing keys cannot be fetched yet", RetryAfter: max(wait, time.Second)}
}

// The due rules below are called with s.mu held.

func (s *keySource) backoff() time.Duration {
	if s.failures == 0 {
		return 0
	}
	return min(minRetry<<min(s.failures-1, 8), maxRetry)
}

func (s *keySource) backoffOver(now time.Time) bool {
	return !now.Before(s.attemptAt.Add(s.backoff()))
}

func (s *keySource) cooldownOver(now time.Time) bool {
	return !now.Before(s.attemptAt.Add(max(s.cooldown, s.backoff())))
}

func (s *keySource) refreshDue(now time.Time) bool {
	return !now.Before(s.fetchedAt.Add(s.maxAge)) && s.cooldownOver(now)
}

// refreshIfOld starts a background refresh when the keys have grown old;
// the request goes on with the keys it has.
func (s *keySource) refreshIfOld() {
	if s.now().UnixNano() < s.refreshAt.Load() {
		return
	}
	s.start(s.refreshDue)
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

func (s *keySource) fetch(done chan struct{}, jwksURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	set, found, err := s.load(ctx, jwksURL)

	s.mu.Lock()
	defer s.mu.Unlock()
	defer close(done)
	s.inflight = nil
	if found != "" {
		s.jwksURL = found
	}
	if err != nil {
		s.failures++
		s.lastErr = err
		s.log.Warn("bearer: fetching the issuer's keys failed", "issuer", s.issuer, "failures", s.failures, "err", err)
		return
	}
	s.keys.Store(set)
	s.fetchedAt = s.now()
	s.refreshAt.Store(s.fetchedAt.Add(s.maxAge).UnixNano())
	s.failures = 0
	s.lastErr = nil
	s.log.Debug("bearer: issuer keys fetched", "issuer", s.issuer, "keys", set.len())
}

// load runs discovery when the JWKS URL is not yet known, then reads the
// key set. It returns the JWKS URL it discovered, if any.
func (s *keySource) load(ctx context.Context, jwksURL string) (*keySet, string, error) {
	found := ""
	if jwksURL == "" {
		md, err := discover(ctx, s.client, s.issuer)
		if err != nil {
			return nil, "", err
		}
		jwksURL, found = md.JWKSURL, md.JWKSURL
	}
	body, err := getDocument(ctx, s.client, jwksURL)
	if err != nil {
		return nil, found, fmt.Errorf("jwks: %w", err)
	}
	set, skipped, err := parseJWKS(body, s.maxKeys)
	if err != nil {
		return nil, found, fmt.Errorf("jwks: %w", err)
	}
	for _, k := range skipped {
		s.log.Warn("bearer: skipping an issuer key", "issuer", s.issuer, "kid", k.kid, "reason", k.reason)
	}
	if set.len() == 0 {
		return nil, found, errors.New("jwks: no usable signing key")
	}
	return set, found, nil
}
