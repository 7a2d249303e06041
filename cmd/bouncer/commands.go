package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

// command is one subcommand: its flags (built afresh for help, with
// options nobody reads) and what it does.
type command struct {
	name  string
	flags func() *flag.FlagSet
	run   func(ctx context.Context, c *cli, args []string) int
}

var commands = []command{
	{"check", func() *flag.FlagSet { return new(checkOptions).flagSet() }, runCheck},
	{"token", func() *flag.FlagSet { return new(tokenOptions).flagSet() }, runToken},
	{"metadata", func() *flag.FlagSet { return new(metadataOptions).flagSet() }, runMetadata},
	{"serve", func() *flag.FlagSet { return new(serveOptions).flagSet() }, runServe},
}

// docs describe the commands. They are apart from commands, which the
// commands themselves reach through their flag parsing.
var docs = map[string]struct{ synopsis, summary string }{
	"check": {
		"bouncer check --issuer URL --audience A [--scope S] [--role R] [--leeway 60s] [--revocations] [--json] [TOKEN | -]",
		"verify a token as an API would, step by step, and say what to change when it is refused",
	},
	"token": {
		"bouncer token --issuer URL --client-id ID [--client-secret S] [--scope S] [--audience A | --resource R] [--auth basic|post] [--json]",
		"get a client-credentials token from the issuer and print the access token",
	},
	"metadata": {
		"bouncer metadata --issuer URL",
		"show the issuer's metadata and keys, and which keys bouncer skips and why",
	},
	"serve": {
		"bouncer serve --config FILE | bouncer serve --check FILE",
		"run the gateway: bouncer's decisions for Envoy ext_authz (gRPC, HTTP) and Traefik, Caddy and nginx forward-auth",
	},
}

func commandNamed(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// help prints the overview, or one command's usage.
func (c *cli) help(args []string) int {
	if len(args) == 0 {
		writeOverview(c.stdout)
		return exitOK
	}
	cmd, ok := commandNamed(args[0])
	if !ok {
		fmt.Fprintf(c.stderr, "bouncer help: unknown command %q\n", args[0])
		return exitUsage
	}
	writeUsage(c.stdout, cmd.name, cmd.flags())
	return exitOK
}

func writeOverview(w io.Writer) {
	fmt.Fprint(w, "bouncer explains what a bouncer-protected API makes of a token and its issuer,\nand serves the same decisions to proxies in front of services in any language.\n\nCommands:\n")
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", cmd.name, docs[cmd.name].summary)
	}
	fmt.Fprint(w, `
Run "bouncer help COMMAND" for a command's flags.

serve reads a YAML file (issuers, routes and their policies, the claim
headers sent upstream, DPoP, mTLS, Redis, metrics, logs): see the README's
"Gateway: bouncer serve". It reloads the file on SIGHUP and when it
changes, serves /healthz, /readyz and /metrics, and stops gracefully.

Exit codes:
  0   check: the token is accepted; token, metadata: done; serve: stopped
      on SIGINT or SIGTERM, or --check found the file valid
  1   check: the token is refused (the API answers 401 or 400);
      token: the issuer refused the request; metadata: bouncer cannot use
      what the issuer publishes; serve: the configuration is invalid
      (each problem printed as FILE:LINE:COLUMN: setting: why)
  2   check: the token is valid but --scope or --role denies it (403)
  3   the issuer cannot be reached or answers with an error (the API
      answers 503), or another network error; serve: a listener failed
  64  usage error

Issuers must be https, except on loopback hosts (localhost, 127.0.0.0/8,
::1); --insecure-http allows plain http anywhere, as Config.InsecureAllowHTTP
does. A private CA is trusted through SSL_CERT_FILE.
`)
}

func writeUsage(w io.Writer, name string, fs *flag.FlagSet) {
	d := docs[name]
	fmt.Fprintf(w, "usage: %s\n\n%s.\n\n", d.synopsis, capitalise(d.summary))
	out := fs.Output()
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(out)
}

func capitalise(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
