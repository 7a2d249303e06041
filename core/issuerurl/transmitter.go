package issuerurl

import (
	"fmt"
	"net/url"
	"strings"
)

// TransmitterURLs are the places a Shared Signals transmitter's metadata
// may live: the Transmitter Configuration Metadata where the Shared
// Signals Framework puts it ("/.well-known/ssf-configuration" inserted
// after the host, which Keycloak serves for a realm when it runs at the
// web root), then appended to the issuer (where Keycloak always serves
// it), then the places DiscoveryURLs names, for a transmitter that is
// also an authorization server and publishes its keys only there.
func TransmitterURLs(issuer string) ([]string, error) {
	rest, err := DiscoveryURLs(issuer)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer %q is not an absolute URL", issuer)
	}
	inserted := u.Scheme + "://" + u.Host + "/.well-known/ssf-configuration" + strings.TrimSuffix(u.EscapedPath(), "/")
	appended := strings.TrimSuffix(issuer, "/") + "/.well-known/ssf-configuration"
	if appended == inserted {
		return append([]string{inserted}, rest...), nil
	}
	return append([]string{inserted, appended}, rest...), nil
}
