package bearerotel

import "time"

// WithClock sets the clock the key set age is measured with.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.now = now }
}
