package bearer

import "slices"

// RequireClient grants access when the token was issued to one of clients:
// "only the billing service may call this". The client is Claims.ClientID,
// read the same way for every issuer: client_id (RFC 9068, Keycloak), azp
// (Entra v2, Keycloak), appid (Entra v1), or what Config.Claims maps it
// to (Spring Authorization Server's sub under ClientIDFromSubject, a
// Kubernetes service account's sub under ClientID: []string{"sub"}).
//
// Several clients are alternatives: any of them may call. Combine it with
// other policies through All and Any, e.g.
//
//	bearer.All(bearer.RequireScope("invoices.write"), bearer.RequireClient("billing"))
//
// The refusal is 403 insufficient_scope and names neither the caller nor
// the clients allowed: a caller learns that it may not call, not who may.
// A token that names no client is refused too.
func RequireClient(clients ...string) Policy {
	return scoped{PolicyFunc: func(c *Claims) error {
		if c.ClientID != "" && slices.Contains(clients, c.ClientID) {
			return nil
		}
		return insufficient(nil, "the calling client is not allowed on this route")
	}}
}
