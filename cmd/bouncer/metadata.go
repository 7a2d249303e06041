package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// metadataOptions are the flags of "bouncer metadata".
type metadataOptions struct {
	issuer   string
	insecure bool
}

func (o *metadataOptions) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("metadata", flag.ContinueOnError)
	fs.StringVar(&o.issuer, "issuer", "", "the issuer `URL`, exactly as an API would configure it (Config.Issuer)")
	fs.BoolVar(&o.insecure, "insecure-http", false, "fetch over plain http from any host (Config.InsecureAllowHTTP)")
	return fs
}

// runMetadata shows the issuer's documents as the command reads them, then
// bouncer's own verdict: a Verifier configured with the issuer fetches
// them as an API would (Ready), and its events and log lines say what it
// made of them.
func runMetadata(ctx context.Context, c *cli, args []string) int {
	var o metadataOptions
	positional, code, ok := c.parseArgs("metadata", o.flagSet(), args)
	if !ok {
		return code
	}
	switch {
	case len(positional) > 0:
		return c.usageError("metadata", "unexpected argument %q", positional[0])
	case o.issuer == "":
		return c.usageError("metadata", "--issuer is required")
	}
	rec := &recorder{}
	v, err := bearer.New(bearer.Config{
		Issuer:            o.issuer,
		Audiences:         []string{"bouncer-metadata"}, // unused: no token is verified
		InsecureAllowHTTP: o.insecure,
		Observer:          rec,
		Logger:            rec.logger(),
	})
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer metadata: %v\n", err)
		return exitUsage
	}
	d, err := c.discover(ctx, o.issuer)
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer metadata: discovery: %v\n", err)
		return exitUnavailable
	}
	writeDiscovery(c.stdout, d, o.issuer)
	if d.JWKSURI == "" {
		fmt.Fprintln(c.stdout, "\n✗ the metadata names no jwks_uri: bouncer cannot find the keys")
		return exitRefused
	}
	if err := fetchable(d.JWKSURI, o.insecure); err != nil {
		fmt.Fprintf(c.stdout, "\n✗ jwks_uri: %v\n", err)
		return exitRefused
	}
	doc, err := c.get(ctx, d.JWKSURI)
	if err != nil {
		fmt.Fprintf(c.stderr, "bouncer metadata: jwks: %v\n", err)
		return exitUnavailable
	}
	keysOK := writeKeys(c.stdout, doc)
	readyErr := v.Ready(ctx)
	if readyErr != nil {
		fmt.Fprintf(c.stdout, "\n✗ bouncer cannot verify this issuer's tokens: %v\n", readyErr)
	} else {
		fmt.Fprintf(c.stdout, "\n✓ bouncer can verify this issuer's tokens: %s\n", plural(v.Status().Keys, "usable key"))
		writeRefresh(c.stdout, rec)
	}
	if logged := rec.logged(); logged != "" {
		fmt.Fprintf(c.stdout, "\nbouncer logs, as an API would:\n%s", indent(logged, "  "))
	}
	if readyErr != nil || !keysOK {
		return exitRefused
	}
	return exitOK
}

func writeDiscovery(out io.Writer, d *discovery, issuer string) {
	match := "✓ the issuer asked for"
	if d.Issuer != issuer {
		match = fmt.Sprintf("✗ not %q: bouncer refuses metadata naming another issuer", issuer)
	}
	fmt.Fprintf(out, "discovery %s\n", d.url)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "  issuer\t%q %s\n", d.Issuer, match)
	for _, e := range []struct{ name, url string }{
		{"jwks_uri", d.JWKSURI},
		{"token_endpoint", d.TokenEndpoint},
		{"introspection_endpoint", d.Introspection},
	} {
		fmt.Fprintf(w, "  %s\t%s\n", e.name, orDefault(e.url, "(none)"))
	}
	w.Flush()
}

// writeKeys lists the published keys with bouncer's verdict on each, and
// reports whether bouncer can use the set.
func writeKeys(out io.Writer, doc *document) bool {
	fmt.Fprintf(out, "\njwks %s\n", doc.url)
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "  Cache-Control\t%s\n", orDefault(doc.header.Get("Cache-Control"), "(none)"))
	fmt.Fprintf(w, "  Expires\t%s\n", orDefault(doc.header.Get("Expires"), "(none)"))
	w.Flush()
	keys, err := parseJWKS(doc.body)
	if err != nil {
		fmt.Fprintf(out, "  ✗ %v\n", err)
		return false
	}
	skips, notes, setErr := keyVerdicts(keys, doc.body)
	usable := 0
	for _, s := range skips {
		if s == "" {
			usable++
		}
	}
	fmt.Fprintf(out, "\nkeys: %d published, %d usable\n", len(keys), usable)
	w = tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  \tkid\tkey\talg\tuse\tkey_ops\tbouncer")
	for i, k := range keys {
		mark, verdict := "✓", "verifies signatures"
		if skips[i] != "" {
			mark, verdict = "✗", "skips it: "+skips[i]
		}
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", mark, orDefault(k.Kid, "-"), k.shape(),
			orDefault(k.Alg, "-"), orDefault(k.Use, "-"), orDefault(strings.Join(k.KeyOps, ","), "-"), verdict)
	}
	w.Flush()
	for _, n := range notes {
		fmt.Fprintf(out, "  ✗ %s\n", n)
	}
	if setErr != nil {
		fmt.Fprintf(out, "  ✗ %v\n", setErr)
	}
	return setErr == nil
}

// writeRefresh says when bouncer fetches the keys again, which it derives
// from the JWKS answer's Cache-Control or Expires.
func writeRefresh(w io.Writer, rec *recorder) {
	scheduled := rec.of(bearer.EventRefreshScheduled)
	if len(scheduled) == 0 {
		return
	}
	fmt.Fprintf(w, "  refetched in about %s (Cache-Control max-age or Expires, else Config.KeyMaxAge; within 30s and 24h, ±10%%)\n", human(scheduled[0].Next))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(strings.TrimRight(s, "\n"), "\n")
	return prefix + strings.Join(lines, prefix) + "\n"
}
