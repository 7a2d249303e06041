// Command bouncer answers, from a terminal, what an API's operator asks
// when a token is refused: why (check), what the issuer publishes and what
// bouncer makes of it (metadata), and it fetches a token to try with
// (token). It also runs the gateway (serve): the same decisions for
// proxies (Envoy, Traefik, Caddy, nginx) in front of services written in
// any language. Every verdict comes from package bearer, the code the API runs;
// the command only fetches and decodes what it needs to explain it.
//
//	go install github.com/bouncer-go/bouncer/cmd/bouncer@latest
//	bouncer help
package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one invocation and returns its exit code. Commands write
// their results to stdout and their errors to stderr, so that scripts can
// capture the one and let the other reach a person.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{
		stdin:     stdin,
		stdout:    stdout,
		stderr:    stderr,
		client:    &http.Client{Timeout: 15 * time.Second},
		getenv:    os.Getenv,
		lookupEnv: os.LookupEnv,
	}
	if len(args) == 0 {
		writeOverview(stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		return c.help(args[1:])
	}
	cmd, ok := commandNamed(name)
	if !ok {
		fmt.Fprintf(stderr, "bouncer: unknown command %q\n\n", name)
		writeOverview(stderr)
		return exitUsage
	}
	return cmd.run(context.Background(), c, args[1:])
}

// cli is what one invocation runs with: its streams, the client of the
// command's own fetches and the environment, gathered so that commands
// run in-process, in tests too.
type cli struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	client *http.Client
	getenv func(string) string
	// lookupEnv reads ${NAME} in serve's configuration.
	lookupEnv func(string) (string, bool)
}
