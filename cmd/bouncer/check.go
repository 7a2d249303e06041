package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// checkOptions are the flags of "bouncer check": the settings of the API
// whose refusal is being explained.
type checkOptions struct {
	issuer    string
	audiences listFlag
	scopes    listFlag
	roles     listFlag
	leeway    time.Duration
	insecure  bool
	json      bool

	revocations revocationFlags
}

func (o *checkOptions) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.StringVar(&o.issuer, "issuer", "", "the issuer `URL` the API trusts, exactly as configured (Config.Issuer)")
	fs.Var(&o.audiences, "audience", "the API's audience `A` (Config.Audiences); repeat for several")
	fs.Var(&o.scopes, "scope", "a scope `S` the route requires (bearer.RequireScope); repeat for several")
	fs.Var(&o.roles, "role", "a role `R` the route requires (bearer.RequireRole); repeat for several")
	fs.DurationVar(&o.leeway, "leeway", 60*time.Second, "clock skew tolerated on exp, nbf and iat (Config.Leeway), at most 10m")
	fs.BoolVar(&o.insecure, "insecure-http", false, "fetch the issuer's metadata and keys over plain http from any host (Config.InsecureAllowHTTP)")
	fs.BoolVar(&o.json, "json", false, "print the result as JSON: {accepted, reason, status, description, steps, header, claims}")
	o.revocations.add(fs)
	return fs
}

// config is the API's configuration the options describe.
func (o *checkOptions) config(rec *recorder) bearer.Config {
	leeway := o.leeway
	if leeway == 0 {
		leeway = -1 // bouncer reads zero as its default; a negative value is none
	}
	return bearer.Config{
		Issuer:            o.issuer,
		Audiences:         o.audiences,
		Leeway:            leeway,
		InsecureAllowHTTP: o.insecure,
		Revocation:        o.revocations.revoker,
		Observer:          rec,
		Logger:            rec.logger(),
	}
}

// policies are the route's policies the options describe.
func (o *checkOptions) policies() []bearer.Policy {
	var p []bearer.Policy
	if s := o.scopes.words(); len(s) > 0 {
		p = append(p, bearer.RequireScope(s...))
	}
	if len(o.roles) > 0 {
		p = append(p, bearer.RequireRole(o.roles...))
	}
	return p
}

func runCheck(ctx context.Context, c *cli, args []string) int {
	var o checkOptions
	positional, code, ok := c.parseArgs("check", o.flagSet(), args)
	if !ok {
		return code
	}
	switch {
	case o.issuer == "":
		return c.usageError("check", "--issuer is required")
	case len(o.audiences) == 0:
		return c.usageError("check", "--audience is required: the API's audience, which the token's aud must name")
	case len(positional) > 1:
		return c.usageError("check", "one token at most, got %d arguments", len(positional))
	case o.leeway < 0 || o.leeway > bearer.MaxLeeway:
		return c.usageError("check", "--leeway must be within 0 and %v", bearer.MaxLeeway)
	}
	if code, err := o.revocations.load(ctx, c); err != nil {
		fmt.Fprintf(c.stderr, "bouncer check: %v\n", err)
		return code
	}
	token, err := c.readToken(positional)
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer check: %v\n", err)
		return exitUsage
	}
	x, err := explain(ctx, c, &o, token)
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer check: %v\n", err)
		return exitUsage
	}
	if o.json {
		err = x.writeJSON(c.stdout)
	} else {
		err = x.writeText(c.stdout)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer check: %v\n", err)
	}
	if x.err == nil {
		return exitOK
	}
	return exitFor(x.err)
}

// readToken takes the token from the argument, or from standard input when
// the argument is "-" or absent, so that it need not appear in the shell's
// history. A pasted "Bearer " prefix is dropped.
func (c *cli) readToken(positional []string) (string, error) {
	var token string
	if len(positional) == 1 && positional[0] != "-" {
		token = positional[0]
	} else {
		if f, ok := c.stdin.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				fmt.Fprintln(c.stderr, "bouncer check: reading the token from standard input (end with Ctrl-D)")
			}
		}
		b, err := io.ReadAll(io.LimitReader(c.stdin, 4<<20))
		if err != nil {
			return "", fmt.Errorf("reading the token: %w", err)
		}
		token = string(b)
	}
	token = strings.TrimSpace(token)
	if scheme, rest, ok := strings.Cut(token, " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(rest)
	}
	if token == "" {
		return "", fmt.Errorf("no token: give it as the argument, or on standard input")
	}
	return token, nil
}
