package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
)

// "bouncer revoke" takes tokens back across every replica of an API that
// shares its revocations through Redis (bearerredis.Revocations): the
// operator's way in, beside the Go API and Shared Signals events.

func init() {
	commands = append(commands, command{"revoke", func() *flag.FlagSet { return new(revokeOptions).flagSet() }, runRevoke})
	docs["revoke"] = struct{ synopsis, summary string }{
		"bouncer revoke jti --issuer URL --jti ID\n" +
			"       bouncer revoke client --issuer URL --client ID [--before TIME]\n" +
			"       bouncer revoke subject --issuer URL --subject S [--before TIME]\n" +
			"       bouncer revoke token < token-file\n" +
			"       bouncer revoke list [--json]\n" +
			"       (all with [--redis URL] [--prefix P] [--reason TEXT])",
		"take tokens back before they expire, in every replica that shares its revocations through Redis; " +
			"exit 0 when done, 3 when Redis cannot be reached, 64 on a usage error",
	}
}

// revokeOptions are the flags of "bouncer revoke".
type revokeOptions struct {
	redisURL  string
	prefix    string
	issuer    string
	jti       string
	client    string
	subject   string
	before    string
	reason    string
	retention time.Duration
	json      bool
}

func (o *revokeOptions) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("revoke", flag.ContinueOnError)
	fs.StringVar(&o.redisURL, "redis", "", "the Redis `URL` the replicas share (redis://…, rediss://…); REDIS_URL keeps its password out of the shell's history and ps")
	fs.StringVar(&o.prefix, "prefix", "", "the key `prefix` the replicas use (bearerredis.RevocationsConfig.Prefix)")
	fs.StringVar(&o.issuer, "issuer", "", "the `issuer` of the tokens, exactly as their iss says")
	fs.StringVar(&o.jti, "jti", "", "jti: the token's `jti`")
	fs.StringVar(&o.client, "client", "", "client: the client `ID` (client_id, azp or appid) whose tokens to revoke")
	fs.StringVar(&o.subject, "subject", "", "subject: the `subject` (sub) whose tokens to revoke")
	fs.StringVar(&o.before, "before", "now", "client, subject: revoke the tokens issued before `TIME` (RFC 3339, or now); tokens issued after it are accepted")
	fs.StringVar(&o.reason, "reason", "", "why, for the replicas' logs: `TEXT`")
	fs.DurationVar(&o.retention, "retention", 24*time.Hour, "how long the rule is kept after it took effect: the replicas' RevokerConfig.Retention")
	fs.BoolVar(&o.json, "json", false, "print the rule (list: the rules) as JSON")
	return fs
}

func runRevoke(ctx context.Context, c *cli, args []string) int {
	var o revokeOptions
	positional, code, ok := c.parseArgs("revoke", o.flagSet(), args)
	if !ok {
		return code
	}
	if len(positional) == 0 {
		return c.usageError("revoke", "say what to revoke: jti, client, subject or token; or list")
	}
	what := positional[0]
	if len(positional) > 1 {
		if what == "token" {
			return c.usageError("revoke", "the token is read from standard input, never from the command line, where the shell's history and ps would keep it")
		}
		return c.usageError("revoke", "unexpected argument %q", positional[1])
	}
	if o.redisURL == "" {
		o.redisURL = c.getenv("REDIS_URL")
	}
	if o.redisURL == "" {
		return c.usageError("revoke", "--redis or REDIS_URL is required: the Redis the replicas share")
	}
	if o.retention < time.Minute {
		return c.usageError("revoke", "--retention must be at least 1m")
	}
	var rule bearer.Revocation
	switch what {
	case "list":
	case "jti", "client", "subject", "token":
		var msg string
		if rule, msg = o.rule(c, what); msg != "" {
			return c.usageError("revoke", "%s", msg)
		}
	default:
		return c.usageError("revoke", "unknown %q: jti, client, subject, token or list", what)
	}
	opts, err := redis.ParseURL(o.redisURL)
	if err != nil {
		return c.usageError("revoke", "--redis: %v", err)
	}
	opts.DialTimeout = 3 * time.Second
	opts.MaxRetries = -1
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	revoker, err := bearer.NewRevoker(bearer.RevokerConfig{Retention: o.retention, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return c.usageError("revoke", "%v", err)
	}
	store, err := bearerredis.NewRevocations(rdb, revoker, bearerredis.RevocationsConfig{Prefix: o.prefix, Timeout: 5 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return c.usageError("revoke", "%v", err)
	}
	if what == "list" {
		return c.listRevocations(ctx, store, o.json)
	}
	if err := store.Revoke(ctx, rule); err != nil {
		fmt.Fprintf(c.stderr, "bouncer revoke: %v\n", err)
		return exitUnavailable
	}
	if o.json {
		return c.writeJSON("revoke", rule)
	}
	fmt.Fprintf(c.stdout, "revoked %s\nin force in every replica until %s\n", describe(rule), rule.Expires.UTC().Format(time.RFC3339))
	return exitOK
}

// rule is the rule the options describe, or what is wrong with them.
func (o *revokeOptions) rule(c *cli, what string) (bearer.Revocation, string) {
	r := bearer.Revocation{Issuer: o.issuer, Source: "cli", Reason: o.reason}
	given := map[string]string{"jti": o.jti, "client": o.client, "subject": o.subject}
	for name, v := range given {
		if v != "" && name != what {
			return r, fmt.Sprintf("--%s does not go with revoke %s", name, what)
		}
	}
	if what != "token" && o.issuer == "" {
		return r, "--issuer is required: the iss of the tokens to revoke"
	}
	if (what == "jti" || what == "token") && o.before != "now" {
		return r, "--before goes with revoke client and revoke subject"
	}
	switch what {
	case "jti":
		r.Kind, r.Value = bearer.RevokeTokenID, o.jti
	case "client":
		r.Kind, r.Value = bearer.RevokeClientBefore, o.client
	case "subject":
		r.Kind, r.Value = bearer.RevokeSubjectBefore, o.subject
	case "token":
		if o.issuer != "" {
			return r, "revoke token takes no --issuer: a token is revoked by its hash alone"
		}
		token, err := c.readSecretToken()
		if err != nil {
			return r, err.Error()
		}
		r.Issuer, r.Kind, r.Value = "", bearer.RevokeToken, bearer.TokenHash(token)
		if exp, ok := jwtExpiry(token); ok {
			// Kept only as long as the token could be accepted.
			r.Expires = exp.Add(bearer.MaxLeeway)
		}
	}
	if r.Value == "" {
		return r, fmt.Sprintf("--%s is required", what)
	}
	if r.Kind == bearer.RevokeClientBefore || r.Kind == bearer.RevokeSubjectBefore {
		now := time.Now()
		r.Before = now
		if o.before != "now" {
			t, err := time.Parse(time.RFC3339, o.before)
			if err != nil {
				return r, fmt.Sprintf("--before %q is not an RFC 3339 time (2026-05-01T12:00:00Z) nor now", o.before)
			}
			if t.After(now.Add(time.Second)) {
				return r, "--before is in the future: a rule never revokes tokens not issued yet"
			}
			r.Before = t
		}
	}
	return r, ""
}

// readSecretToken reads the token to revoke from standard input, bounded,
// a pasted "Bearer " prefix dropped.
func (c *cli) readSecretToken() (string, error) {
	if f, ok := c.stdin.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintln(c.stderr, "bouncer revoke: reading the token from standard input (end with Ctrl-D)")
		}
	}
	b, err := io.ReadAll(io.LimitReader(c.stdin, 1<<20))
	if err != nil {
		return "", fmt.Errorf("reading the token: %w", err)
	}
	token := strings.TrimSpace(string(b))
	if scheme, rest, ok := strings.Cut(token, " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(rest)
	}
	if token == "" {
		return "", errors.New("no token on standard input")
	}
	return token, nil
}

// jwtExpiry reads a JWT's exp, unverified: it only shortens how long the
// rule is kept, to when the token could no longer be accepted anyway.
func jwtExpiry(token string) (time.Time, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if dec.Decode(&claims) != nil {
		return time.Time{}, false
	}
	exp, err := claims.Exp.Int64()
	if err != nil || exp <= 0 || exp > time.Now().Add(30*24*time.Hour).Unix() {
		return time.Time{}, false
	}
	return time.Unix(exp, 0), true
}

// describe says what a rule revokes.
func describe(r bearer.Revocation) string {
	switch r.Kind {
	case bearer.RevokeToken:
		return "the token with SHA-256 " + r.Value
	case bearer.RevokeTokenID:
		return fmt.Sprintf("the token with jti %q of %s", r.Value, r.Issuer)
	case bearer.RevokeClientBefore:
		return fmt.Sprintf("the tokens of client %q of %s issued before %s", r.Value, r.Issuer, r.Before.UTC().Format(time.RFC3339))
	case bearer.RevokeSubjectBefore:
		return fmt.Sprintf("the tokens of subject %q of %s issued before %s", r.Value, r.Issuer, r.Before.UTC().Format(time.RFC3339))
	}
	return r.String()
}

// listRevocations prints the rules stored in Redis that are in force.
func (c *cli) listRevocations(ctx context.Context, store *bearerredis.Revocations, asJSON bool) int {
	rules, err := store.Rules(ctx)
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer revoke: %v\n", err)
		return exitUnavailable
	}
	if asJSON {
		if rules == nil {
			rules = []bearer.Revocation{}
		}
		return c.writeJSON("revoke", rules)
	}
	if len(rules) == 0 {
		fmt.Fprintln(c.stdout, "no revocation in force")
		return exitOK
	}
	w := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "KIND\tISSUER\tVALUE\tBEFORE\tUNTIL\tSOURCE\tREASON")
	for _, r := range rules {
		before := "-"
		if !r.Before.IsZero() {
			before = r.Before.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Kind, orDefault(r.Issuer, "-"), r.Value, before, r.Expires.UTC().Format(time.RFC3339), orDefault(r.Source, "-"), orDefault(r.Reason, "-"))
	}
	_ = w.Flush()
	return exitOK
}

func (c *cli) writeJSON(name string, v any) int {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(c.stderr, "bouncer %s: %v\n", name, err)
	}
	return exitOK
}
