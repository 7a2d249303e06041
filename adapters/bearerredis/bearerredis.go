// Package bearerredis lets the replicas of an API share, through Redis,
// what bouncer would otherwise keep per process: introspection answers
// (bearer.SharedCache), so that N replicas ask the issuer once per token
// rather than N times, the identifiers of DPoP proofs
// (bearer.ReplayStore), so that a proof replayed against another replica
// is caught, and token revocations (Revocations, a bearer.RevocationSink),
// so that a token revoked through one replica is refused by all within a
// second.
//
// Keys are hashes of tokens (or proof identifiers), never tokens; every
// entry carries its own expiry (a Redis TTL). Introspection entries are
// authenticated by bouncer with a key the replicas share
// (bearer.Introspection.SharedKey), so write access to the Redis alone
// does not let anyone make a token active. Each call is bounded by a
// short timeout: a slow or absent Redis costs a request milliseconds, and
// bouncer carries on with its in-process cache.
package bearerredis

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Store is a bearer.SharedCache and a bearer.ReplayStore over Redis.
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
}

var (
	_ bearer.SharedCache = (*Store)(nil)
	_ bearer.ReplayStore = (*Store)(nil)
)

// Option configures a Store.
type Option func(*Store)

// WithPrefix puts prefix before every key, for a Redis shared with other
// applications. The default is "".
func WithPrefix(prefix string) Option {
	return func(s *Store) { s.prefix = prefix }
}

// WithTimeout bounds each Redis call. The default is 100 ms, which is also
// what zero or a negative d means: a Store whose every call failed at once
// would quietly turn off the shared cache and refuse every DPoP proof.
func WithTimeout(d time.Duration) Option {
	return func(s *Store) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// New returns a Store over rdb (a *redis.Client, a cluster or failover
// client). It panics if rdb is nil.
func New(rdb redis.UniversalClient, opts ...Option) *Store {
	if rdb == nil {
		panic("bearerredis: New needs a Redis client, got nil")
	}
	s := &Store{rdb: rdb, timeout: 100 * time.Millisecond}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Get returns the value stored under key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	v, err := s.rdb.Get(ctx, s.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

// Set stores value under key for ttl.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < time.Millisecond {
		return nil // nothing worth sharing
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.rdb.Set(ctx, s.prefix+key, value, ttl).Err()
}

// Remember records key for ttl with SET NX, which Redis performs
// atomically: of any number of replicas presenting the same key at once,
// exactly one is told it is fresh.
func (s *Store) Remember(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.rdb.SetArgs(ctx, s.prefix+key, "1", redis.SetArgs{Mode: "NX", TTL: max(ttl, time.Millisecond)}).Err()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		return false, nil
	}
	return false, err
}
