package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// listFlag is a flag that may be given several times.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, " ") }

func (l *listFlag) Set(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	*l = append(*l, v)
	return nil
}

// words splits every value on spaces, for flags such as --scope whose
// values people also write as one space-separated string.
func (l listFlag) words() []string {
	var out []string
	for _, v := range l {
		out = append(out, strings.Fields(v)...)
	}
	return out
}

// parseArgs parses fs from args, with flags allowed after positional
// arguments too ("bouncer check TOKEN --issuer …" reads as well as the
// flags-first order), and returns the positional ones. After "--"
// everything is positional. On an error it has said what is wrong on
// stderr and returns the exit code: 0 for -h, which prints the usage to
// stdout.
func (c *cli) parseArgs(name string, fs *flag.FlagSet, args []string) ([]string, int, bool) {
	fs.SetOutput(c.stderr)
	fs.Usage = func() {}
	var positional []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			writeUsage(c.stdout, name, fs)
			return nil, exitOK, false
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "run \"bouncer help %s\" for its usage\n", name)
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, 0, true
		}
		if consumed := args[:len(args)-len(rest)]; len(consumed) > 0 && consumed[len(consumed)-1] == "--" {
			return append(positional, rest...), 0, true
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// usageError reports a mistake in the command line.
func (c *cli) usageError(name, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "bouncer %s: %s\nrun \"bouncer help %s\" for its usage\n", name, fmt.Sprintf(format, args...), name)
	return exitUsage
}
