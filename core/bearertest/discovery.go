package bearertest

import (
	"encoding/json"
	"net/http"
)

// serveDiscovery answers both the OpenID Connect discovery document and its
// RFC 8414 form with the same metadata, since verifiers differ in which one
// they fetch.
func (i *Issuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, "application/json", i.metadata())
}

// metadata lists what the issuer supports. It has no authorization
// endpoint, since it only grants client credentials, hence no response types.
func (i *Issuer) metadata() map[string]any {
	m := map[string]any{
		"issuer":                                i.url,
		"jwks_uri":                              i.JWKSURL(),
		"token_endpoint":                        i.TokenURL(),
		"introspection_endpoint":                i.IntrospectionURL(),
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"response_types_supported":              []string{},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": Algorithms(),
	}
	if scopes := i.allScopes(); len(scopes) > 0 {
		m["scopes_supported"] = scopes
	}
	return m
}

func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(body)
}
