package bearer

import (
	"context"
	"time"
)

// ReplayStore remembers one-time identifiers (the jti of DPoP proofs) for a
// while, so that an identifier presented twice is recognised as a replay.
// A fleet of replicas shares one store (adapters/bearerredis) so that a
// proof replayed against another replica is caught too.
//
// A Verifier asks it last, for a proof whose every other check passed and
// whose token verified and is bound to the proof's key: a store holds the
// identifiers of accepted proofs only, as many as the API accepts DPoP
// requests in 2×Window, and nothing a caller without a valid token sent.
type ReplayStore interface {
	// Remember records key for ttl and reports whether it was new; false
	// means key was already recorded and not yet expired: a replay. It
	// must be atomic across all users of the store.
	Remember(ctx context.Context, key string, ttl time.Duration) (fresh bool, err error)
}
