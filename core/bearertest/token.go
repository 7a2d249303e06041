package bearertest

import (
	"crypto/sha256"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// maxTokenRequest bounds the body of a token request.
const maxTokenRequest = 64 << 10

// tokenResponse is a successful token response (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope,omitempty"`
}

// tokenError is an error response (RFC 6749 §5.2).
type tokenError struct {
	status      int
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *tokenError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="bearertest"`)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, e.status, "application/json", e)
}

func badRequest(code, desc string) *tokenError {
	return &tokenError{http.StatusBadRequest, code, desc}
}

func badClient(desc string) *tokenError {
	return &tokenError{http.StatusUnauthorized, "invalid_client", desc}
}

// serveToken is the token endpoint for the client-credentials grant
// (RFC 6749 §4.4), strict where real servers are, so that clients tested
// against it work against those.
func (i *Issuer) serveToken(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodPost) {
		return
	}
	resp, terr := i.grant(w, r)
	if terr != nil {
		terr.write(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, "application/json", resp)
}

func (i *Issuer) grant(w http.ResponseWriter, r *http.Request) (*tokenResponse, *tokenError) {
	form, terr := parseTokenForm(w, r)
	if terr != nil {
		return nil, terr
	}
	c, terr := i.authenticateRequest(r, form)
	if terr != nil {
		return nil, terr
	}
	switch gt := form.Get("grant_type"); gt {
	case "client_credentials":
	case "":
		return nil, badRequest("invalid_request", "missing grant_type")
	default:
		return nil, badRequest("unsupported_grant_type", "grant_type "+gt+" is not supported")
	}
	scopes, terr := grantedScopes(c, form.Get("scope"))
	if terr != nil {
		return nil, terr
	}
	aud, terr := i.audience(form)
	if terr != nil {
		return nil, terr
	}

	claims := map[string]any{"sub": c.id, "client_id": c.id, "aud": aud}
	tokenType := "Bearer"
	if proof := r.Header.Values("DPoP"); len(proof) > 0 {
		jkt, terr := proofThumbprint(proof)
		if terr != nil {
			return nil, terr
		}
		claims["cnf"] = map[string]any{"jkt": jkt}
		tokenType = "DPoP"
	} else if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		// Mutual TLS: the token is bound to the client's certificate
		// (RFC 8705 §3).
		sum := sha256.Sum256(r.TLS.PeerCertificates[0].Raw)
		claims["cnf"] = map[string]any{"x5t#S256": b64(sum[:])}
	}
	if len(scopes) > 0 {
		claims["scope"] = strings.Join(scopes, " ")
	}
	var tok string
	var err error
	if i.cfg.opaque {
		tok = i.MintOpaque(claims)
	} else if tok, err = i.Mint(claims); err != nil {
		return nil, &tokenError{http.StatusInternalServerError, "server_error", err.Error()}
	}
	return &tokenResponse{
		AccessToken: tok,
		TokenType:   tokenType,
		ExpiresIn:   int64(i.cfg.ttl.Seconds()),
		Scope:       strings.Join(scopes, " "),
	}, nil
}

// parseTokenForm reads the form-encoded body. Parameters in the URL query
// are ignored, as RFC 6749 §4.4.2 puts them in the body, and a parameter
// given twice is an error (§3.2), except "resource" (RFC 8707 §2).
func parseTokenForm(w http.ResponseWriter, r *http.Request) (url.Values, *tokenError) {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/x-www-form-urlencoded" {
		return nil, badRequest("invalid_request", "body must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxTokenRequest)
	if err := r.ParseForm(); err != nil {
		return nil, badRequest("invalid_request", "malformed body")
	}
	for name, values := range r.PostForm {
		if len(values) > 1 && name != "resource" {
			return nil, badRequest("invalid_request", "parameter "+name+" is repeated")
		}
	}
	return r.PostForm, nil
}

// authenticateRequest authenticates the client by client_secret_basic or
// client_secret_post, never both (RFC 6749 §2.3.1). In the Basic form the ID
// and secret are form-urlencoded before base64, so a secret with ":" or "+"
// only works if the client encodes it, as the RFC requires.
func (i *Issuer) authenticateRequest(r *http.Request, form url.Values) (client, *tokenError) {
	var id, secret string
	if r.Header.Get("Authorization") != "" {
		rawID, rawSecret, ok := r.BasicAuth()
		if !ok {
			return client{}, badClient("Authorization header is not HTTP Basic")
		}
		var err1, err2 error
		id, err1 = url.QueryUnescape(rawID)
		secret, err2 = url.QueryUnescape(rawSecret)
		if err1 != nil || err2 != nil {
			return client{}, badClient("client ID or secret is not form-urlencoded")
		}
		if form.Has("client_secret") {
			return client{}, badRequest("invalid_request", "client authenticated with more than one method")
		}
		if form.Has("client_id") && form.Get("client_id") != id {
			return client{}, badRequest("invalid_request", "client_id does not match the Authorization header")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" || secret == "" {
		return client{}, badClient("client authentication required")
	}
	c, ok := i.authenticate(id, secret)
	if !ok {
		return client{}, badClient("unknown client or wrong secret")
	}
	return c, nil
}

// grantedScopes is what the client asked for, or everything it may have if it
// asked for nothing (RFC 6749 §3.3).
func grantedScopes(c client, requested string) ([]string, *tokenError) {
	asked := strings.Fields(requested)
	if len(asked) == 0 {
		return c.scopes, nil
	}
	var granted []string
	for _, s := range asked {
		if !slices.Contains(c.scopes, s) {
			return nil, badRequest("invalid_scope", "scope "+s+" is not allowed for client "+c.id)
		}
		if !slices.Contains(granted, s) {
			granted = append(granted, s)
		}
	}
	return granted, nil
}

// audience is the "aud" of the token: the RFC 8707 resources and the
// "audience" parameter some providers use instead, or the default audience.
// One audience is a string, several an array.
func (i *Issuer) audience(form url.Values) (any, *tokenError) {
	var aud []string
	for _, res := range form["resource"] {
		u, err := url.Parse(res)
		if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(res, "#") {
			return nil, badRequest("invalid_target", "resource must be an absolute URI without a fragment")
		}
		if !slices.Contains(aud, res) {
			aud = append(aud, res)
		}
	}
	if a := form.Get("audience"); a != "" && !slices.Contains(aud, a) {
		aud = append(aud, a)
	}
	switch len(aud) {
	case 0:
		return i.cfg.audience, nil
	case 1:
		return aud[0], nil
	}
	return aud, nil
}
