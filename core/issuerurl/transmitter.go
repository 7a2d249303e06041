package issuerurl

import (
	"fmt"
	"net/url"
	"strings"
)

// TransmitterURLs are the places a Shared Signals transmitter's metadata
// may live: the Transmitter Configuration Metadata of the Shared Signals
// Framework ("/.well-known/ssf-configuration" inserted after the host,
// as Keycloak serves it for a realm), then the places DiscoveryURLs names,
// for a transmitter that is also an authorization server and publishes
// its keys only there.
func TransmitterURLs(issuer string) ([]string, error) {
	rest, err := DiscoveryURLs(issuer)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer %q is not an absolute URL", issuer)
	}
	ssf := u.Scheme + "://" + u.Host + "/.well-known/ssf-configuration" + strings.TrimSuffix(u.EscapedPath(), "/")
	return append([]string{ssf}, rest...), nil
}
