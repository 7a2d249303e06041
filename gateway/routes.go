package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// authMode is what a route asks of a request's token.
type authMode int

const (
	authRequired authMode = iota
	authOptional
	authSkip
)

// route is a Route ready to match requests.
type route struct {
	name     string
	hosts    []string // lower case; "*.example.com" for any subdomain
	prefix   string   // path-prefix, without a final slash ("" for "/")
	pattern  *pattern // path, exact or with wildcards
	anyPath  bool
	methods  []string // empty: any
	auth     authMode
	policies []bearer.Policy
}

func newRoute(i int, r Route) (*route, error) {
	out := &route{name: r.Name, methods: slices.Clone(r.Methods)}
	if out.name == "" {
		out.name = fmt.Sprintf("route %d", i+1)
	}
	for _, h := range r.Hosts {
		out.hosts = append(out.hosts, strings.ToLower(h))
	}
	switch {
	case r.Path != "":
		p, err := compilePattern(r.Path)
		if err != nil {
			return nil, err
		}
		out.pattern = p
	case r.PathPrefix != "":
		out.prefix = strings.TrimSuffix(r.PathPrefix, "/")
	default:
		out.anyPath = true
	}
	switch r.Auth {
	case "optional":
		out.auth = authOptional
	case "skip":
		out.auth = authSkip
	}
	if p := compilePolicy(r.Policy); p != nil {
		out.policies = []bearer.Policy{p}
	}
	return out, nil
}

// matches reports whether the route applies to a request for host (no
// port, lower case) and path (decoded, in normal form).
func (r *route) matches(method, host, path string) bool {
	if len(r.methods) > 0 && !slices.Contains(r.methods, method) && !(method == "HEAD" && slices.Contains(r.methods, "GET")) {
		return false
	}
	if len(r.hosts) > 0 && !slices.ContainsFunc(r.hosts, func(h string) bool { return hostMatches(h, host) }) {
		return false
	}
	switch {
	case r.anyPath:
		return true
	case r.pattern != nil:
		return r.pattern.matches(path)
	}
	return path == r.prefix || strings.HasPrefix(path, r.prefix+"/")
}

func hostMatches(want, host string) bool {
	if rest, ok := strings.CutPrefix(want, "*."); ok {
		return strings.HasSuffix(host, "."+rest) && len(host) > len(rest)+1
	}
	return want == host
}

// wildcard marks a "{name}" segment: no literal segment holds a NUL.
const wildcard = "\x00"

// pattern is a path with "{name}" segments (one segment each) and an
// optional final "{name...}" (the rest of the path).
type pattern struct {
	segments []string // wildcard stands for a "{name}" segment
	rest     bool
}

func compilePattern(s string) (*pattern, error) {
	if err := checkLiteralPath(strings.NewReplacer("{", "", "}", "").Replace(s)); err != nil {
		return nil, err
	}
	p := &pattern{}
	segs := strings.Split(s[1:], "/")
	for i, seg := range segs {
		if !strings.ContainsAny(seg, "{}") {
			p.segments = append(p.segments, seg)
			continue
		}
		name, ok := strings.CutPrefix(seg, "{")
		name, ok2 := strings.CutSuffix(name, "}")
		if !ok || !ok2 || strings.ContainsAny(name, "{}") {
			return nil, fmt.Errorf("%q: a wildcard is a whole segment, {name}", s)
		}
		if n, rest := strings.CutSuffix(name, "..."); rest {
			if i != len(segs)-1 {
				return nil, fmt.Errorf("%q: {%s} may only end the pattern", s, name)
			}
			if n == "" {
				return nil, fmt.Errorf("%q: a wildcard needs a name", s)
			}
			p.rest = true
			break
		}
		if name == "" {
			return nil, fmt.Errorf("%q: a wildcard needs a name", s)
		}
		p.segments = append(p.segments, wildcard)
	}
	return p, nil
}

func (p *pattern) matches(path string) bool {
	rest := path[1:]
	for _, want := range p.segments {
		if rest == "" && want != "" {
			return false
		}
		seg, after, more := strings.Cut(rest, "/")
		switch {
		case want == wildcard && seg == "":
			return false
		case want != wildcard && seg != want:
			return false
		}
		if !more {
			rest = ""
			// No segment follows: a {rest...} needs one ("/files/").
			return !p.rest
		}
		rest = after
	}
	// Every literal segment matched: without {rest...} nothing may
	// follow; with it, the path goes on below them.
	return p.rest
}

// checkLiteralPath accepts an absolute path in normal form.
func checkLiteralPath(s string) error {
	if !strings.HasPrefix(s, "/") {
		return fmt.Errorf("%q does not start with /", s)
	}
	if _, err := normalPath(s); err != nil {
		return fmt.Errorf("%q: %v", s, err)
	}
	return nil
}

var errPath = errors.New("the request path is not in normal form")

// normalPath decodes the escaped path of a request for route matching,
// refusing any path that servers behind the proxy could read otherwise
// than the gateway does: dot segments, empty segments (//), encoded
// slashes and backslashes, NUL and control characters, malformed
// escapes. What the gateway matches is then what the upstream serves.
func normalPath(escaped string) (string, error) {
	if !strings.HasPrefix(escaped, "/") {
		return "", fmt.Errorf("%w: it does not start with /", errPath)
	}
	lower := strings.ToLower(escaped)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(lower, "%00") {
		return "", fmt.Errorf("%w: it holds an encoded slash, backslash or NUL", errPath)
	}
	p, err := url.PathUnescape(escaped)
	if err != nil {
		return "", fmt.Errorf("%w: a malformed escape", errPath)
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return "", fmt.Errorf("%w: it holds a control character or backslash", errPath)
		}
	}
	for rest, more := p[1:], true; more; {
		var seg string
		seg, rest, more = strings.Cut(rest, "/")
		switch {
		case seg == "." || seg == "..":
			return "", fmt.Errorf("%w: it holds a dot segment", errPath)
		case seg == "" && more:
			return "", fmt.Errorf("%w: it holds an empty segment (//)", errPath)
		}
	}
	return p, nil
}

// hostOnly is a Host value without port, in lower case.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
}
