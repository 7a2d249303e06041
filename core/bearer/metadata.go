package bearer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// WellKnownMetadataPath is where RFC 9728 metadata lives: between the host
// and the path of the resource identifier.
const WellKnownMetadataPath = "/.well-known/oauth-protected-resource"

// ResourceMetadata is an API's OAuth 2.0 Protected Resource Metadata
// (RFC 9728): what a client reads, from the API itself, to learn which
// issuers it trusts, which scopes it knows and how to send tokens. The
// Model Context Protocol requires it of every MCP server over HTTP.
//
// Serve it with ServeHTTP (or an adapter's Metadata handler) at Path, and
// set Config.ResourceMetadata to URL so that every 401 and 403 challenge
// points to it. Resource is configured, never taken from a request's Host
// header. Members without a value are left out, as §2 requires.
type ResourceMetadata struct {
	// Resource is this API's resource identifier, an https URL (http on
	// loopback hosts) without query or fragment, e.g.
	// "https://api.example.com" or "https://api.example.com/country".
	Resource string `json:"resource"`
	// AuthorizationServers are the issuers whose tokens the API accepts:
	// see Verifier.AuthorizationServers.
	AuthorizationServers []string `json:"authorization_servers,omitempty"`
	// ScopesSupported are the scopes the API's routes require: see
	// ScopesOf.
	ScopesSupported []string `json:"scopes_supported,omitempty"`
	// BearerMethodsSupported are how tokens may be sent: "header" by
	// default, also "body" and "query" when the verifier accepts them.
	BearerMethodsSupported []string `json:"bearer_methods_supported,omitempty"`
	// ResourceName is a name for people; ResourceDocumentation a URL.
	ResourceName          string `json:"resource_name,omitempty"`
	ResourceDocumentation string `json:"resource_documentation,omitempty"`
}

// NewResourceMetadata is the metadata of the API resource guarded by c,
// with the authorization servers c trusts and the bearer methods it
// accepts; scopes, names and documentation are for the caller to add.
func NewResourceMetadata(resource string, c Checker) (*ResourceMetadata, error) {
	m := &ResourceMetadata{Resource: resource, BearerMethodsSupported: []string{"header"}}
	var first *Verifier
	switch c := c.(type) {
	case *Verifier:
		first = c
		m.AuthorizationServers = c.AuthorizationServers()
	case *MultiVerifier:
		first = c.members[0]
		m.AuthorizationServers = c.AuthorizationServers()
	}
	if first != nil {
		if first.allowForm {
			m.BearerMethodsSupported = append(m.BearerMethodsSupported, "body")
		}
		if first.allowQuery {
			m.BearerMethodsSupported = append(m.BearerMethodsSupported, "query")
		}
	}
	if _, err := m.URL(); err != nil {
		return nil, err
	}
	return m, nil
}

// URL is where the metadata is served: the well-known path inserted
// between the host and the path of Resource (RFC 9728 §3.1), a final slash
// of the path dropped.
func (m *ResourceMetadata) URL() (string, error) {
	u, err := url.Parse(m.Resource)
	if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("bearer: resource %q is not an absolute URL without query or fragment", m.Resource)
	}
	if err := secureTarget(u, false); err != nil {
		return "", fmt.Errorf("bearer: resource: %w", err)
	}
	return u.Scheme + "://" + u.Host + m.Path(), nil
}

// Path is the path the metadata is served at, for a router.
func (m *ResourceMetadata) Path() string {
	u, err := url.Parse(m.Resource)
	if err != nil {
		return WellKnownMetadataPath
	}
	return WellKnownMetadataPath + strings.TrimSuffix(u.EscapedPath(), "/")
}

// Document is the JSON document.
func (m *ResourceMetadata) Document() []byte {
	b, _ := json.Marshal(m) // strings and lists of strings: cannot fail
	return b
}

// ResponseTo is the answer to a request for the document, for adapters to
// copy as they copy refusals: to GET and HEAD the document with an hour's
// caching, since it changes with the deployment, not per request; to any
// other method 405, whatever methods the route was registered for.
func (m *ResourceMetadata) ResponseTo(method string) Response {
	h := http.Header{}
	if method != http.MethodGet && method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		return Response{Status: http.StatusMethodNotAllowed, Header: h, Body: []byte("method not allowed\n")}
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "max-age=3600")
	return Response{Status: http.StatusOK, Header: h, Body: m.Document()}
}

// ServeHTTP serves the document to GET and HEAD.
func (m *ResourceMetadata) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp := m.ResponseTo(r.Method)
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}

// AuthorizationServers are the issuers this Verifier accepts tokens from,
// for ResourceMetadata: its issuer, or for an issuer template the issuer
// of each allowed tenant, or else the tenant-independent one its metadata
// is read from (see Config.DiscoveryTenant).
func (v *Verifier) AuthorizationServers() []string {
	if v.tenants == nil {
		return []string{v.issuer}
	}
	if len(v.tenants.allowed) == 0 {
		return []string{v.keys.location}
	}
	out := make([]string, 0, len(v.tenants.allowed))
	for _, t := range v.tenants.allowed {
		out = append(out, strings.Replace(v.issuer, TenantPlaceholder, t, 1))
	}
	return out
}

// AuthorizationServers are the issuers of all this MultiVerifier's
// issuers (see Verifier.AuthorizationServers).
func (m *MultiVerifier) AuthorizationServers() []string {
	var out []string
	for _, v := range m.members {
		out = append(out, v.AuthorizationServers()...)
	}
	return out
}
