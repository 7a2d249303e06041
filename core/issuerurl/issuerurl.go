// Package issuerurl holds the rules on issuer URLs that package bearer
// follows: where an issuer's metadata is looked for, and which hosts may be
// reached over plain http. It is public so that tools built on bouncer (the
// bouncer command among them, a module of its own) look where, and talk to
// what, a verifier would.
package issuerurl

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// DiscoveryURLs are the places an issuer's metadata may live: the OpenID
// Connect form (appended, as Keycloak, Entra and oidc-provider serve it),
// then the RFC 8414 form (inserted after the host, as Spring Authorization
// Server always serves it).
func DiscoveryURLs(issuer string) ([]string, error) {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("issuer %q is not an absolute URL", issuer)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("issuer %q must not have a query or fragment", issuer)
	}
	oidcURL := strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
	rfc8414 := u.Scheme + "://" + u.Host + "/.well-known/oauth-authorization-server" + strings.TrimSuffix(u.EscapedPath(), "/")
	return []string{oidcURL, rfc8414}, nil
}

// IsLoopback reports whether host is localhost or a loopback address
// (127.0.0.0/8, ::1): nothing on the network stands between such a host
// and its client, so plain http to it is allowed.
func IsLoopback(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
