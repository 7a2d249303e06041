package bearertest

import "strings"

// DefaultTenant is the tenant of tokens minted by a multi-tenant issuer
// when the claims name none.
const DefaultTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"

// tenantPlaceholder is Microsoft's placeholder in multi-tenant issuers.
const tenantPlaceholder = "{tenantid}"

// WithTenants makes the issuer behave like Microsoft Entra ID's
// multi-tenant endpoints: its identifier, [Issuer.URL], is the template
// "<origin>/{tenantid}/v2.0"; its metadata is served, with that template as
// issuer, under "<origin>/common/v2.0" and "<origin>/organizations/v2.0";
// and each token's iss is the template with its tid claim put in
// ([DefaultTenant] unless the claims choose one). A token can thus be
// minted whose iss names another tenant than its tid, as forgers try. The
// other endpoints (keys, token, introspection) are at the origin.
func WithTenants() Option {
	return func(c *config) { c.tenants = true }
}

// TenantIssuer is the issuer of tenant's tokens: the template filled in.
func (i *Issuer) TenantIssuer(tenant string) string {
	return strings.Replace(i.url, tenantPlaceholder, tenant, 1)
}

// isTenantDiscovery reports a request for Entra's tenant-independent
// metadata.
func isTenantDiscovery(path string) bool {
	return path == "/common/v2.0/.well-known/openid-configuration" || path == "/organizations/v2.0/.well-known/openid-configuration"
}
