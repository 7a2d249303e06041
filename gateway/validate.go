package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/bouncer-go/bouncer/core/issuerurl"
)

// validate checks what can be checked without building anything; New
// checks the rest (what package bearer refuses), at the same lines.
func (c *Config) validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, c.errorAt(path, format, args...))
	}

	for _, l := range []struct{ path, addr string }{{"listen.http", c.Listen.HTTP}, {"listen.grpc", c.Listen.GRPC}} {
		if l.addr != "" {
			if _, _, err := net.SplitHostPort(l.addr); err != nil {
				bad(l.path, "%q is not host:port", l.addr)
			}
		}
	}
	if c.Listen.HTTP != "" && c.Listen.HTTP == c.Listen.GRPC {
		bad("listen.grpc", "the gRPC listener needs another address than the HTTP one")
	}
	for _, p := range []struct{ path, value string }{{"listen.forward-auth-path", c.Listen.ForwardAuthPath}, {"listen.envoy-http-prefix", c.Listen.EnvoyHTTPPrefix}} {
		if p.value != "" && (!strings.HasPrefix(p.value, "/") || strings.ContainsAny(p.value, "?#{} ")) {
			bad(p.path, "%q is not a path", p.value)
		}
	}
	if c.Listen.ShutdownTimeout < 0 {
		bad("listen.shutdown-timeout", "is negative")
	}

	if len(c.Issuers) == 0 {
		bad("issuers", "at least one issuer is required")
	}
	introspecting := -1
	for i, is := range c.Issuers {
		p := fmt.Sprintf("issuers[%d]", i)
		if is.IssuerURI == "" {
			bad(p, "issuer-uri is required")
		}
		if len(is.Audiences) == 0 && !is.InsecureAcceptAnyAudience {
			bad(p, "audiences is required: name this API's audience (or set insecure-accept-any-audience, which accepts tokens meant for any API)")
		}
		if is.JWKSetURI != "" && is.JWKSFile != "" {
			bad(p+".jwks-file", "set jwk-set-uri or jwks-file, not both")
		}
		if in := is.Introspection; in != nil {
			if introspecting >= 0 {
				bad(p+".introspection", "issuers[%d] introspects already: an opaque token names no issuer, so only one issuer may", introspecting)
			}
			introspecting = i
			if in.ClientID == "" || in.ClientSecret == "" {
				bad(p+".introspection", "client-id and client-secret are required")
			}
			switch in.ClientAuthenticationMethod {
			case "", "client_secret_basic", "client_secret_post":
			default:
				bad(p+".introspection.client-authentication-method", "%q is neither client_secret_basic nor client_secret_post", in.ClientAuthenticationMethod)
			}
			if in.SharedKey != "" && len(in.SharedKey) < 32 {
				bad(p+".introspection.shared-key", "needs at least 32 bytes")
			}
		}
		for name := range is.ClaimValues {
			if len(is.ClaimValues[name]) == 0 {
				bad(p+".claim-values."+name, "lists no value: no token could pass")
			}
		}
		if is.MaxTokenAge < 0 {
			bad(p+".max-token-age", "is negative")
		}
	}

	for _, t := range []struct{ path, value string }{{"tokens.header", c.Tokens.Header}} {
		if t.value != "" && !validHeaderName(t.value) {
			bad(t.path, "%q is not a header name", t.value)
		}
	}

	if len(c.Routes) == 0 {
		bad("routes", "no routes: every request would be refused; add at least one")
	}
	for i, r := range c.Routes {
		c.validateRoute(fmt.Sprintf("routes[%d]", i), r, bad)
	}

	c.validateHeaders(bad)

	for i, p := range c.TrustedProxies {
		if _, err := parsePrefix(p); err != nil {
			bad(fmt.Sprintf("trusted-proxies[%d]", i), "%q is neither an IP address nor a CIDR range", p)
		}
	}

	if d := c.DPoP; d != nil {
		switch d.Mode {
		case "", "allowed", "required", "disabled":
		default:
			bad("dpop.mode", "%q is not allowed, required or disabled", d.Mode)
		}
		for host, u := range d.PublicURLs {
			if err := checkPublicURL(u); err != nil {
				bad("dpop.public-urls."+host, "%v", err)
			}
			if host != "*" && !validHost(host) {
				bad("dpop.public-urls."+host, "%q is not a host name", host)
			}
		}
		if len(d.PublicURLs) == 0 && !d.ForwardedOrigin && d.Mode != "disabled" {
			bad("dpop", "public-urls (or forwarded-origin: true) is needed to check which URL a proof was made for")
		}
		if d.NonceSecret != "" && len(d.NonceSecret) < 32 {
			bad("dpop.nonce-secret", "needs at least 32 bytes")
		}
	}

	if m := c.MTLS; m != nil {
		switch m.Source {
		case "xfcc":
			if m.Header != "" {
				bad("mtls.header", "is for source: header only")
			}
		case "header":
			if !validHeaderName(m.Header) {
				bad("mtls.header", "source: header needs the name of the header the proxy forwards the certificate in")
			}
		default:
			bad("mtls.source", "%q is neither xfcc nor header", m.Source)
		}
	}

	if r := c.Redis; r != nil {
		if r.URL == "" {
			bad("redis.url", "is required")
		} else if u, err := url.Parse(r.URL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") {
			bad("redis.url", "is not a redis://, rediss:// or unix:// URL")
		}
		if r.Timeout < 0 {
			bad("redis.timeout", "is negative")
		}
	}

	if m := c.ResourceMetadata; m != nil {
		if u, err := url.Parse(m.Resource); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Scheme != "https" && !(u.Scheme == "http" && issuerurl.IsLoopback(u.Hostname()))) {
			bad("resource-metadata.resource", "%q is not an https URL without query or fragment", m.Resource)
		}
	}

	if c.Cache.MaxEntries < 0 || c.Cache.MaxBytes < 0 {
		bad("cache", "bounds cannot be negative")
	}
	if p := c.Telemetry.MetricsPath; p != "" && !strings.HasPrefix(p, "/") {
		bad("telemetry.metrics-path", "%q is not a path", p)
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		bad("log.level", "%q is not debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "", "json", "text":
	default:
		bad("log.format", "%q is neither json nor text", c.Log.Format)
	}
	if c.Reload.Interval < 0 {
		bad("reload.interval", "is negative")
	}
	return errors.Join(errs...)
}

func (c *Config) validateRoute(p string, r Route, bad func(string, string, ...any)) {
	for j, h := range r.Hosts {
		if !validHost(strings.TrimPrefix(h, "*.")) {
			bad(fmt.Sprintf("%s.hosts[%d]", p, j), "%q is not a host name (or *.domain)", h)
		}
	}
	switch {
	case r.Path != "" && r.PathPrefix != "":
		bad(p+".path", "set path or path-prefix, not both")
	case r.Path != "":
		if _, err := compilePattern(r.Path); err != nil {
			bad(p+".path", "%v", err)
		}
	case r.PathPrefix != "":
		if err := checkLiteralPath(r.PathPrefix); err != nil {
			bad(p+".path-prefix", "%v", err)
		}
	}
	for j, m := range r.Methods {
		if m == "" || m != strings.ToUpper(m) || !validToken(m) {
			bad(fmt.Sprintf("%s.methods[%d]", p, j), "%q is not a method name in capitals", m)
		}
	}
	switch r.Auth {
	case "", "required", "optional":
	case "skip":
		if !r.Policy.empty() {
			bad(p+".policy", "a skipped route checks nothing: remove its policy, or its auth: skip")
		}
	default:
		bad(p+".auth", "%q is not required, optional or skip", r.Auth)
	}
	validatePolicy(p+".policy", r.Policy, bad)
}

func validatePolicy(p string, pol Policy, bad func(string, string, ...any)) {
	for _, l := range []struct {
		name string
		list []string
	}{{"scopes", pol.Scopes}, {"any-scopes", pol.AnyScopes}, {"roles", pol.Roles}, {"any-roles", pol.AnyRoles}, {"clients", pol.Clients}} {
		if slices.Contains(l.list, "") {
			bad(p+"."+l.name, "holds an empty name")
		}
	}
	for _, m := range []struct {
		name string
		m    map[string][]string
	}{{"client-roles", pol.ClientRoles}, {"any-client-roles", pol.AnyClientRoles}} {
		for client, roles := range m.m {
			if len(roles) == 0 || slices.Contains(roles, "") {
				bad(p+"."+m.name+"."+client, "needs role names")
			}
		}
	}
	if s := pol.ScopesOrAppPermissions; s != nil && len(s.Scopes) == 0 && len(s.AppPermissions) == 0 {
		bad(p+".scopes-or-app-permissions", "needs scopes or app-permissions")
	}
	for i, sub := range pol.Any {
		if sub.empty() {
			bad(fmt.Sprintf("%s.any[%d]", p, i), "an empty policy in any would let every token through")
		}
		validatePolicy(fmt.Sprintf("%s.any[%d]", p, i), sub, bad)
	}
	for i, sub := range pol.All {
		validatePolicy(fmt.Sprintf("%s.all[%d]", p, i), sub, bad)
	}
}

func (p Policy) empty() bool {
	return len(p.Scopes) == 0 && len(p.AnyScopes) == 0 && len(p.Roles) == 0 && len(p.AnyRoles) == 0 &&
		len(p.ClientRoles) == 0 && len(p.AnyClientRoles) == 0 && len(p.Clients) == 0 &&
		p.ScopesOrAppPermissions == nil && len(p.Any) == 0 && len(p.All) == 0
}

// reservedHeaders may not carry claims: proxies and servers give them
// meaning of their own.
var reservedHeaders = []string{"Authorization", "Cookie", "Host", "Content-Length", "Content-Type",
	"Transfer-Encoding", "Connection", "Upgrade", "Te", "Trailer", "Keep-Alive", "Proxy-Authorization",
	"Dpop", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Method", "X-Forwarded-Uri",
	"X-Original-Uri", "X-Original-Method", "X-Forwarded-Client-Cert"}

func (c *Config) validateHeaders(bad func(string, string, ...any)) {
	seen := map[string]string{}
	check := func(path, name string) {
		if name == "" || name == "-" {
			return
		}
		if !validHeaderName(name) {
			bad(path, "%q is not a header name", name)
			return
		}
		canon := http.CanonicalHeaderKey(name)
		if slices.Contains(reservedHeaders, canon) {
			bad(path, "%s cannot carry a claim: proxies and servers give it a meaning of its own", name)
		}
		if c.MTLS != nil && strings.EqualFold(c.MTLS.Header, name) || strings.EqualFold(c.Tokens.Header, name) {
			bad(path, "%s is where requests bring credentials, not where claims go", name)
		}
		if prev, dup := seen[canon]; dup {
			bad(path, "%s already carries %s", name, prev)
		}
		seen[canon] = path
	}
	h := c.UpstreamHeaders
	check("upstream-headers.client-id", h.ClientID)
	check("upstream-headers.subject", h.Subject)
	check("upstream-headers.scopes", h.Scopes)
	check("upstream-headers.issuer", h.Issuer)
	check("upstream-headers.roles", h.Roles)
	for _, claim := range sortedKeys(h.Claims) {
		p := "upstream-headers.claims." + claim
		if claim == "" || strings.HasPrefix(claim, ".") || strings.HasSuffix(claim, ".") || strings.Contains(claim, "..") {
			bad(p, "%q is not a claim name", claim)
		}
		if h.Claims[claim] == "" || h.Claims[claim] == "-" {
			bad(p, "names no header")
		}
		check(p, h.Claims[claim])
	}
}

// validHeaderName reports an RFC 9110 field name.
func validHeaderName(s string) bool { return s != "" && validToken(s) }

func validToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// validHost reports a DNS name or IP address, without port.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return true
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				return false
			}
		}
	}
	return true
}

// checkPublicURL accepts an https origin (http on loopback hosts),
// optionally with a path prefix.
func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q is not an absolute URL without query or fragment", s)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && issuerurl.IsLoopback(u.Hostname())) {
		return fmt.Errorf("%q is not https (plain http is for loopback hosts only)", s)
	}
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
