package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/bouncer-go/bouncer/gateway"
)

// serveOptions are the flags of serve.
type serveOptions struct {
	config string
	check  string
}

func (o *serveOptions) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&o.config, "config", "", "the gateway's configuration `FILE` (YAML), to serve")
	fs.StringVar(&o.check, "check", "", "validate the configuration `FILE` (every problem with its line) and exit")
	return fs
}

// runServe runs the gateway (package gateway) until SIGINT or SIGTERM:
// Envoy's ext_authz (gRPC and HTTP) and forward-auth for Traefik, Caddy
// and nginx, deciding with the same verifier as bouncer's middleware.
func runServe(ctx context.Context, c *cli, args []string) int {
	var o serveOptions
	positional, code, ok := c.parseArgs("serve", o.flagSet(), args)
	if !ok {
		return code
	}
	switch {
	case len(positional) > 0:
		return c.usageError("serve", "unexpected argument %q", positional[0])
	case o.check != "" && o.config != "":
		return c.usageError("serve", "give --config or --check, not both")
	case o.check != "":
		cfg, err := gateway.CheckFile(o.check, c.lookupEnv)
		if err != nil {
			writeConfigErrors(c, err)
			return exitRefused
		}
		fmt.Fprintf(c.stdout, "%s: valid (%d issuers, %d routes)\n", o.check, len(cfg.Issuers), len(cfg.Routes))
		return exitOK
	case o.config == "":
		return c.usageError("serve", "--config FILE is required")
	}
	s, err := gateway.NewServer(o.config, gateway.ServerOptions{LogOutput: c.stderr, Lookup: c.lookupEnv})
	if err != nil {
		writeConfigErrors(c, err)
		return exitRefused
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := s.Run(ctx); err != nil {
		fmt.Fprintf(c.stderr, "bouncer serve: %v\n", err)
		return exitUnavailable
	}
	return exitOK
}

// writeConfigErrors prints each problem of a configuration on a line of
// its own, file:line first, as compilers do.
func writeConfigErrors(c *cli, err error) {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			fmt.Fprintf(c.stderr, "%v\n", e)
		}
		return
	}
	fmt.Fprintf(c.stderr, "%v\n", err)
}
