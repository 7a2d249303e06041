package bearer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
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
// Build it with NewResourceMetadata from the resource identifier and the
// issuers' configurations, before the verifier: set Config.ResourceMetadata
// (or MultiConfig.ResourceMetadata) to URL, so that every 401 and 403
// challenge points to it, then serve it with ServeHTTP (or an adapter's
// Metadata handler) at Path. Resource is configured, never taken from a
// request's Host header. Members without a value are left out, as §2
// requires.
type ResourceMetadata struct {
	// Resource is this API's resource identifier, an https URL (http on
	// loopback hosts) without query or fragment, e.g.
	// "https://api.example.com" or "https://api.example.com/country".
	Resource string `json:"resource"`
	// AuthorizationServers are the issuers whose tokens the API accepts:
	// see NewResourceMetadata.
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

// NewResourceMetadata is the metadata of the API whose resource identifier
// is resource, guarded by a verifier of issuers, configured as for New (one
// Config) or NewMulti (MultiConfig.Issuers): the authorization servers they
// trust and the bearer methods the first one accepts (as a MultiVerifier
// reads requests). Scopes, names and documentation are for the caller to
// add. It needs no verifier, so the verifier can name its URL:
//
//	cfg := bearer.Config{Issuer: "https://sso.example.com/realms/services", Audiences: []string{"country-api"}}
//	md, err := bearer.NewResourceMetadata("https://api.example.com/country", cfg)
//	cfg.ResourceMetadata = md.URL()
//	v, err := bearer.New(cfg)
//
// An issuer's authorization server is its Issuer; for an issuer template
// (see TenantPlaceholder), the issuer of each tenant of Config.Tenants, or
// without Tenants the tenant-independent issuer its metadata is read from
// (see Config.DiscoveryTenant).
func NewResourceMetadata(resource string, issuers ...Config) (*ResourceMetadata, error) {
	m := &ResourceMetadata{Resource: resource, BearerMethodsSupported: []string{"header"}}
	if _, err := m.url(); err != nil {
		return nil, err
	}
	for i, cfg := range issuers {
		as, err := authorizationServers(cfg)
		if err != nil {
			return nil, fmt.Errorf("bearer: issuer %d: %w", i, err)
		}
		for _, s := range as {
			if !slices.Contains(m.AuthorizationServers, s) {
				m.AuthorizationServers = append(m.AuthorizationServers, s)
			}
		}
	}
	if len(issuers) > 0 {
		if issuers[0].AllowFormToken {
			m.BearerMethodsSupported = append(m.BearerMethodsSupported, "body")
		}
		if issuers[0].AllowQueryToken {
			m.BearerMethodsSupported = append(m.BearerMethodsSupported, "query")
		}
	}
	return m, nil
}

// authorizationServers are the issuers a Verifier of cfg accepts tokens
// from, as RFC 9728 names them.
func authorizationServers(cfg Config) ([]string, error) {
	switch {
	case cfg.Issuer == "":
		return nil, errors.New("Config.Issuer is required")
	case !strings.Contains(cfg.Issuer, TenantPlaceholder):
		if len(cfg.Tenants) > 0 {
			return nil, fmt.Errorf("Config.Tenants needs an Issuer template with %s", TenantPlaceholder)
		}
		return []string{cfg.Issuer}, nil
	}
	rule, err := newTenantRule(cfg.Issuer, cfg.Tenants)
	if err != nil {
		return nil, err
	}
	if len(rule.allowed) == 0 {
		return []string{discoveryIssuer(cfg.Issuer, orDefault(cfg.DiscoveryTenant, "common"))}, nil
	}
	out := make([]string, 0, len(rule.allowed))
	for _, t := range rule.allowed {
		out = append(out, strings.Replace(cfg.Issuer, TenantPlaceholder, t, 1))
	}
	return out, nil
}

// URL is where the metadata is served, for Config.ResourceMetadata: the
// well-known path inserted between the host and the path of Resource
// (RFC 9728 §3.1), a final slash of the path dropped. It is "" when
// Resource is not a resource identifier NewResourceMetadata accepts.
func (m *ResourceMetadata) URL() string {
	u, _ := m.url()
	return u
}

// url is URL, saying what is wrong with Resource.
func (m *ResourceMetadata) url() (string, error) {
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
