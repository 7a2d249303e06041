package bearer

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/bouncer-go/bouncer/core/issuerurl"
	"github.com/coreos/go-oidc/v3/oidc"
	josejson "github.com/go-jose/go-jose/v4/json"
)

// metadata is the part of an issuer's discovery document bouncer uses.
type metadata struct {
	oidc.ProviderConfig
	IntrospectionURL string `json:"introspection_endpoint"`
}

// discover fetches the issuer's metadata. It moves to the next URL only
// when the issuer answers 404: any other failure is an outage and is
// reported as one. The document must name exactly the configured issuer
// (RFC 8414 §3.3, OpenID Connect Discovery §4.3) and a jwks_uri.
//
// location is the issuer URL the metadata is fetched under; it differs
// from issuer only for an issuer template, whose tenant-independent
// metadata names the template itself. metadataURLs says where the
// metadata may be (nil: issuerurl.DiscoveryURLs, an authorization
// server's).
func discover(ctx context.Context, client *http.Client, metadataURLs func(string) ([]string, error), location, issuer string) (*metadata, error) {
	if metadataURLs == nil {
		metadataURLs = issuerurl.DiscoveryURLs
	}
	urls, err := metadataURLs(location)
	if err != nil {
		return nil, fmt.Errorf("bearer: %w", err)
	}
	var body []byte
	for _, u := range urls {
		body, _, err = getDocument(ctx, client, u)
		var se *statusError
		if errors.As(err, &se) && se.status == http.StatusNotFound {
			continue
		}
		break
	}
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	md, err := parseMetadata(body, issuer)
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	return md, nil
}

// parseMetadata reads a discovery document, which must name exactly issuer
// and a jwks_uri. Member names are exact and may not repeat: see parseJWKS.
func parseMetadata(body []byte, issuer string) (*metadata, error) {
	var md metadata
	if err := josejson.Unmarshal(body, &md); err != nil {
		return nil, fmt.Errorf("the metadata is not a JSON object: %w", err)
	}
	if md.IssuerURL != issuer {
		return nil, &issuerMismatchError{got: md.IssuerURL, want: issuer}
	}
	if md.JWKSURL == "" {
		return nil, errors.New("the metadata has no jwks_uri")
	}
	return &md, nil
}

// issuerMismatchError is a discovery document naming another issuer than
// the configured one: a configuration mistake, not an outage.
type issuerMismatchError struct{ got, want string }

func (e *issuerMismatchError) Error() string {
	return fmt.Sprintf("the metadata names issuer %q, not the configured %q", e.got, e.want)
}
