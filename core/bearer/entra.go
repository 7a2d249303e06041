package bearer

import "strings"

// Microsoft Entra ID specifics beyond the issuer template (see
// TenantPlaceholder): the issuer each key of a shared key set names, and
// the app-only mark of access tokens.

// checkKeyIssuer applies Entra's signing-key issuer rule. Entra's
// tenant-independent key sets (common, organizations) serve every tenant,
// and each key says whose tokens it signs in an issuer member: the issuer
// template for the keys all tenants share, one tenant's issuer for a key
// of that tenant alone. A token verified with a key that names an issuer
// must carry that issuer, with the token's own tid put in for the
// placeholder, as Microsoft.Identity.Web's signing-key issuer validation
// requires: otherwise one tenant's key, or the consumer accounts' key,
// would vouch for tokens claiming any tenant that the template accepts.
// Keys that name no issuer (every other issuer's) are not concerned.
func checkKeyIssuer(k *publicKey, p *payload) *Error {
	if k.issuer == "" {
		return nil
	}
	want := k.issuer
	if strings.Contains(want, TenantPlaceholder) {
		if !isTenantID(p.Tid) {
			return tokenError(ErrIssuer, "the token names no tenant (tid) for its signing key's issuer")
		}
		want = strings.ReplaceAll(want, TenantPlaceholder, p.Tid)
	}
	if p.Iss != want {
		return tokenError(ErrIssuer, "the token's issuer is not the one its signing key is published for")
	}
	return nil
}

// AppOnly reports whether the token says it was issued to an application
// acting for itself, with no user: Entra's idtyp claim is "app". Tokens
// for Microsoft's own APIs always carry idtyp; an API of one's own
// receives it once its app registration adds the optional access-token
// claim idtyp. A token without that claim, from Entra or any other
// issuer, is not app-only here, even if it came from the
// client-credentials grant: only what the token says counts.
func (c *Claims) AppOnly() bool {
	v, ok := c.value("idtyp")
	if !ok {
		return false
	}
	s, err := stringValue(v)
	return err == nil && s == "app"
}

// RequireAppOnly grants access only to app-only tokens (see
// Claims.AppOnly): on a route meant for services alone, it refuses a token
// issued to a user, or to an application acting for one, whatever
// permissions it carries. The refusal is 403 insufficient_scope.
func RequireAppOnly() Policy {
	return PolicyFunc(func(c *Claims) error {
		if c.AppOnly() {
			return nil
		}
		return insufficient(nil, "the token is not an app-only token (idtyp app)")
	})
}
