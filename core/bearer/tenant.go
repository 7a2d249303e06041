package bearer

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// TenantPlaceholder stands for the tenant in an issuer template: Microsoft
// Entra ID's multi-tenant apps accept tokens from every customer tenant,
// each with its own issuer, https://login.microsoftonline.com/<tenant>/v2.0
// (v2 tokens) or https://sts.windows.net/<tenant>/ (v1 tokens). Configured
// as Config.Issuer, "https://login.microsoftonline.com/{tenantid}/v2.0"
// accepts a token whose iss is that template with the token's own tid put
// in it (Microsoft's rule), optionally only for the tenants of
// Config.Tenants. Keys and metadata come from the tenant-independent
// document ("common" unless Config.DiscoveryTenant says "organizations"),
// whose issuer is the template itself.
const TenantPlaceholder = "{tenantid}"

// tenantRule checks a token's iss against an issuer template.
type tenantRule struct {
	template string
	allowed  []string // empty: any tenant
}

func newTenantRule(template string, allowed []string) (*tenantRule, error) {
	if strings.Count(template, TenantPlaceholder) != 1 {
		return nil, fmt.Errorf("bearer: Config.Issuer %q must hold %s exactly once", template, TenantPlaceholder)
	}
	for _, t := range allowed {
		if !isTenantID(t) {
			return nil, fmt.Errorf("bearer: Config.Tenants holds %q, not a tenant id", t)
		}
	}
	return &tenantRule{template: template, allowed: slices.Clone(allowed)}, nil
}

func (r *tenantRule) check(p *payload) *Error {
	if !isTenantID(p.Tid) {
		return tokenError(ErrIssuer, "the token names no tenant (tid) for the issuer template %s", r.template)
	}
	if p.Iss != strings.Replace(r.template, TenantPlaceholder, p.Tid, 1) {
		return tokenError(ErrIssuer, "the token's iss is not %s for its own tenant (tid)", r.template)
	}
	if len(r.allowed) > 0 && !slices.Contains(r.allowed, p.Tid) {
		return tokenError(ErrIssuer, "the token's tenant is not among the tenants this API accepts")
	}
	return nil
}

// matches reports whether iss could come from this template, for routing
// among several issuers before any check.
func (r *tenantRule) matches(iss string) bool {
	prefix, suffix, _ := strings.Cut(r.template, TenantPlaceholder)
	if !strings.HasPrefix(iss, prefix) || !strings.HasSuffix(iss, suffix) || len(iss) < len(prefix)+len(suffix) {
		return false
	}
	return isTenantID(iss[len(prefix) : len(iss)-len(suffix)])
}

// isTenantID accepts what a tenant id may be put into a URL as: a GUID or
// a domain-like name, never anything that would change the URL's shape.
func isTenantID(t string) bool {
	if t == "" || len(t) > 64 {
		return false
	}
	for _, c := range []byte(t) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return t != "." && t != ".."
}

// discoveryIssuer is the URL a template's metadata is fetched under: the
// template with the discovery tenant ("common") put in. Entra serves v1's
// tenant-independent metadata (issuer https://sts.windows.net/{tenantid}/)
// at login.microsoftonline.com, not at sts.windows.net.
func discoveryIssuer(template, tenant string) string {
	if u, err := url.Parse(template); err == nil && strings.EqualFold(u.Host, "sts.windows.net") {
		return "https://login.microsoftonline.com/" + tenant
	}
	return strings.Replace(template, TenantPlaceholder, tenant, 1)
}
