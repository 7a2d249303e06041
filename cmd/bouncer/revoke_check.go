package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
)

// "bouncer check --revocations" judges a token with the revocations the
// API's replicas share through Redis, and says by which rule a revoked
// token was taken back.

// revocationFlags are check's flags about revocations.
type revocationFlags struct {
	on        bool
	redisURL  string
	prefix    string
	retention time.Duration
	revoker   *bearer.Revoker // loaded from Redis when on
}

func (f *revocationFlags) add(fs *flag.FlagSet) {
	fs.BoolVar(&f.on, "revocations", false, "judge the token with the revocations the API's replicas share through Redis (REDIS_URL, or --redis)")
	fs.StringVar(&f.redisURL, "redis", "", "with --revocations: the Redis `URL` (REDIS_URL keeps its password out of the shell's history and ps)")
	fs.StringVar(&f.prefix, "prefix", "", "with --revocations: the replicas' key `prefix`")
	fs.DurationVar(&f.retention, "retention", 24*time.Hour, "with --revocations: the replicas' RevokerConfig.Retention")
}

// load reads the revocations from Redis, once; its error is a usage
// error (exitUsage) or Redis's (exitUnavailable).
func (f *revocationFlags) load(ctx context.Context, c *cli) (int, error) {
	if !f.on {
		if f.redisURL != "" || f.prefix != "" {
			return exitUsage, errors.New("--redis and --prefix go with --revocations")
		}
		return exitOK, nil
	}
	if f.redisURL == "" {
		f.redisURL = c.getenv("REDIS_URL")
	}
	if f.redisURL == "" {
		return exitUsage, errors.New("--revocations needs --redis or REDIS_URL")
	}
	opts, err := redis.ParseURL(f.redisURL)
	if err != nil {
		return exitUsage, fmt.Errorf("--redis: %w", err)
	}
	opts.DialTimeout, opts.MaxRetries = 3*time.Second, -1
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	quiet := slog.New(slog.DiscardHandler)
	if f.revoker, err = bearer.NewRevoker(bearer.RevokerConfig{Retention: f.retention, Logger: quiet}); err != nil {
		return exitUsage, err
	}
	store, err := bearerredis.NewRevocations(rdb, f.revoker, bearerredis.RevocationsConfig{Prefix: f.prefix, Timeout: 5 * time.Second, Logger: quiet})
	if err != nil {
		return exitUsage, err
	}
	if err := store.Sync(ctx); err != nil {
		return exitUnavailable, err
	}
	return exitOK, nil
}

// revocation is the detail of the revocation step.
func (x *explanation) revocation(failed bool) string {
	var re *bearer.RevokedError
	switch {
	case !x.opts.revocations.on:
		return "not asked (--revocations judges the token with the revocations the replicas share)"
	case failed && errors.As(x.err, &re):
		r := re.Rule
		s := fmt.Sprintf("revoked by rule %s, made %s", r, r.At.UTC().Format(time.RFC3339))
		if r.Source != "" {
			s += " by " + r.Source
		}
		if r.Reason != "" {
			s += fmt.Sprintf(" (%s)", r.Reason)
		}
		return s
	}
	return fmt.Sprintf("no rule of the %d in force covers it", len(x.opts.revocations.revoker.Rules()))
}

// revokedHint says what a revoked token's holder can do.
func (x *explanation) revokedHint() string {
	var re *bearer.RevokedError
	if errors.As(x.err, &re) && (re.Rule.Kind == bearer.RevokeClientBefore || re.Rule.Kind == bearer.RevokeSubjectBefore) {
		return fmt.Sprintf("every token of this %s issued before %s was taken back: get a new token; one issued after that time is accepted", re.Rule.Kind, re.Rule.Before.UTC().Format(time.RFC3339))
	}
	return "this very token was taken back: get a new one"
}
