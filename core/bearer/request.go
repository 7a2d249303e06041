package bearer

import (
	"context"
	"mime"
	"net/http"
	"strings"
)

// Request is the view of an HTTP request that token extraction needs. Each
// adapter implements it over its framework's request, in a few lines, so
// that every decision about the request is made here, the same for all.
type Request interface {
	// Header returns every value of the named header, in order.
	Header(name string) []string
	// Query returns every value of the named URL query parameter.
	Query(name string) []string
	// Method is the HTTP method.
	Method() string
	// Form returns every value of the named field of a form-encoded body:
	// body fields only, never the URL query (net/http's r.Form and some
	// frameworks' form helpers merge the two; use PostForm). It is called
	// only for POST, PUT and PATCH requests whose one Content-Type is
	// application/x-www-form-urlencoded, and only when AllowFormToken is
	// set. A body that cannot be parsed has no fields: return nil.
	Form(name string) []string
}

const tokenParam = "access_token"

// Token finds the bearer token in r (RFC 6750 §2). The Authorization header
// is always read; the query and form-body methods only when enabled. A
// request that offers more than one token, or repeats the Authorization
// header, is refused as invalid_request rather than guessed at.
func (v *Verifier) Token(r Request) (string, error) {
	var found []string
	auth := r.Header("Authorization")
	if len(auth) > 1 {
		return "", newError(CodeInvalidRequest, ErrInvalidRequest, "the request has more than one Authorization header")
	}
	if len(auth) == 1 {
		tok, isBearer, err := parseAuthorization(auth[0])
		if err != nil {
			return "", err
		}
		if isBearer {
			found = append(found, tok)
		}
	}
	if v.allowQuery {
		found = append(found, r.Query(tokenParam)...)
	}
	if v.allowForm && hasFormBody(r.Method()) && isForm(r.Header("Content-Type")) {
		found = append(found, r.Form(tokenParam)...)
	}
	switch {
	case len(found) == 0:
		return "", &Error{Err: ErrMissingToken, Description: "the request carries no bearer token"}
	case len(found) > 1:
		return "", newError(CodeInvalidRequest, ErrInvalidRequest, "the request carries more than one bearer token")
	case found[0] == "":
		return "", newError(CodeInvalidRequest, ErrInvalidRequest, "the bearer token is empty")
	case !isB64Token(found[0]):
		return "", newError(CodeInvalidRequest, ErrInvalidRequest, "the bearer token has characters RFC 6750 does not allow")
	}
	return found[0], nil
}

// parseAuthorization reads "Bearer <token>" with the scheme matched without
// regard to case. A header with another scheme (Basic, DPoP…) carries no
// bearer token.
func parseAuthorization(h string) (token string, isBearer bool, err error) {
	scheme, rest, _ := strings.Cut(h, " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false, nil
	}
	return strings.TrimLeft(rest, " "), true, nil
}

// isB64Token matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
func isB64Token(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			break
		}
	}
	if i == 0 {
		return false
	}
	for ; i < len(s); i++ {
		if s[i] != '=' {
			return false
		}
	}
	return true
}

// hasFormBody reports whether method carries a body whose form fields
// net/http, and so every adapter, reads (RFC 6750 §2.2 forbids GET).
func hasFormBody(method string) bool {
	return method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch
}

func isForm(contentType []string) bool {
	if len(contentType) != 1 {
		return false
	}
	mt, _, err := mime.ParseMediaType(contentType[0])
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// Authenticate finds the token in r and verifies it.
func (v *Verifier) Authenticate(ctx context.Context, r Request) (*Claims, error) {
	tok, err := v.Token(r)
	if err != nil {
		return nil, err
	}
	return v.Verify(ctx, tok)
}

// Check is what every middleware does with a request: reuse the claims
// that this same Verifier produced for an earlier middleware on the request,
// or authenticate r, then apply the policies. It returns the claims to store
// in the request's context, or the refusal, always a *Error, to render with
// Response.
//
// Claims in ctx that another Verifier produced (an outer middleware trusting
// another issuer or audience), or that were built or copied outside bouncer,
// are never reused: the request's own token is verified instead.
func (v *Verifier) Check(ctx context.Context, r Request, policies ...Policy) (*Claims, error) {
	c, ok := FromContext(ctx)
	if !ok || !c.verifiedBy(v) {
		var err error
		if c, err = v.Authenticate(ctx, r); err != nil {
			return nil, err
		}
	}
	if err := authorize(c, policies); err != nil {
		return nil, err
	}
	return c, nil
}

// Response renders err, as returned by Check, Authenticate, Verify or a
// Policy, into the HTTP answer, with this Verifier's realm.
func (v *Verifier) Response(err error) Response { return ResponseFor(err, v.realm) }
