package bearer

import (
	"context"
	"crypto/x509"
	"errors"
	"mime"
	"net/http"
	"reflect"
	"strings"
)

// Checker is what a middleware needs of a verifier: to judge a request and
// to render a refusal. *Verifier is one, and so is *MultiVerifier.
// Adapters accept a Checker, never a concrete type.
//
// For adapter authors: the claims Check returns are shared with every
// other request that carries the same token. Store them with NewContext,
// whose FromContext hands out copies; an adapter that also keeps them in
// its framework's own store keeps them out of application code's reach
// there and hands them out with Claims.Clone.
type Checker interface {
	// Check authenticates the request and applies the policies, returning
	// the claims to store with NewContext, or the refusal (a *Error). It
	// uses r only until it returns: adapters may reuse r afterwards.
	Check(ctx context.Context, r Request, policies ...Policy) (*Claims, error)
	// Response renders a refusal as the HTTP answer.
	Response(err error) Response
}

// CheckerError reports a Checker that cannot work: nil, or a nil pointer
// in an interface. Adapters call it in their constructors, so that a
// missing verifier stops the program at start rather than at the first
// request.
func CheckerError(c Checker) error {
	if c == nil {
		return errors.New("a Checker (such as a *bearer.Verifier) is required, got nil")
	}
	if v := reflect.ValueOf(c); v.Kind() == reflect.Pointer && v.IsNil() {
		return errors.New("a Checker (such as a *bearer.Verifier) is required, got a nil " + v.Type().String())
	}
	return nil
}

// Request is the view of an HTTP request that token extraction needs. Each
// adapter implements it over its framework's request, in a few lines, so
// that every decision about the request is made here, the same for all.
//
// The strings a Request returns may be its framework's own memory, valid
// only until the handler returns (fasthttp reuses a connection's buffers
// for its next request), so that an accepted request costs no copy of its
// headers: bearer reads them during the call it is given the Request for
// (Check, VerifyRequest, Token) and copies whatever it keeps beyond it,
// such as the token it caches. It reads a slice Header returned before
// calling any method of the Request again, so an adapter may reuse one
// slice for every call.
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
	// Path is the path of the request target as the client sent it
	// (escaped), without the query. DPoP proofs name the URL they were
	// made for.
	Path() string
	// ClientCertificate is the TLS client certificate the connection was
	// authenticated with, or nil. Mutual-TLS-bound tokens name it.
	ClientCertificate() *x509.Certificate
}

const tokenParam = "access_token"

// Token finds the bearer token in r (RFC 6750 §2). The Authorization header
// is always read; Config.TokenHeader, Config.TokenCookie, the query and the
// form body only when configured. A request that offers more than one
// token, or repeats the Authorization header, is refused as
// invalid_request rather than guessed at. The token is a copy of its own,
// whatever memory r's strings are (see Request).
func (v *Verifier) Token(r Request) (string, error) {
	token, _, e := v.extract(r)
	if e == nil {
		e = checkTokenChars(token)
	}
	if e != nil {
		return "", e
	}
	return strings.Clone(token), nil
}

// checkTokenChars refuses a token with characters outside RFC 6750's
// b64token.
func checkTokenChars(token string) *Error {
	if !isB64Token(token) {
		return newError(CodeInvalidRequest, ErrInvalidRequest, "the bearer token has characters RFC 6750 does not allow")
	}
	return nil
}

// extract is Token without the character check, which a token found in the
// cache of judged tokens has passed already; isDPoP reports a token sent
// with the DPoP scheme.
func (v *Verifier) extract(r Request) (token string, isDPoP bool, e *Error) {
	found := 0
	take := func(values ...string) {
		if found == 0 && len(values) > 0 {
			token = values[0]
		}
		found += len(values)
	}
	auth := r.Header("Authorization")
	if len(auth) > 1 {
		return "", false, newError(CodeInvalidRequest, ErrInvalidRequest, "the request has more than one Authorization header")
	}
	if len(auth) == 1 {
		tok, scheme := parseAuthorization(auth[0])
		if scheme == "Bearer" || (scheme == "DPoP" && v.dpop.accepts()) {
			take(tok)
			isDPoP = scheme == "DPoP"
		}
	}
	if v.tokenHeader != "" {
		take(r.Header(v.tokenHeader)...)
	}
	if v.tokenCookie != "" {
		take(cookieValues(r.Header("Cookie"), v.tokenCookie)...)
	}
	if v.allowQuery {
		take(r.Query(tokenParam)...)
	}
	if v.allowForm && hasFormBody(r.Method()) && isForm(r.Header("Content-Type")) {
		take(r.Form(tokenParam)...)
	}
	switch {
	case found == 0:
		return "", false, &Error{Err: ErrMissingToken, Description: "the request carries no bearer token"}
	case found > 1:
		return "", false, newError(CodeInvalidRequest, ErrInvalidRequest, "the request carries more than one bearer token")
	case token == "":
		return "", false, newError(CodeInvalidRequest, ErrInvalidRequest, "the bearer token is empty")
	}
	return token, isDPoP, nil
}

// parseAuthorization reads "Bearer <token>" or "DPoP <token>", the scheme
// matched without regard to case, and names the scheme ("Bearer", "DPoP",
// or "" for any other: Basic carries no token bouncer reads).
func parseAuthorization(h string) (token, scheme string) {
	name, rest, _ := strings.Cut(h, " ")
	switch {
	case strings.EqualFold(name, "Bearer"):
		scheme = "Bearer"
	case strings.EqualFold(name, "DPoP"):
		scheme = "DPoP"
	default:
		return "", ""
	}
	return strings.TrimLeft(rest, " "), scheme
}

// b64tokenChars marks the characters of RFC 6750's b64token before its
// trailing "=" padding: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/".
var b64tokenChars = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/") {
		t[c] = true
	}
	return t
}()

// isB64Token matches RFC 6750's b64token:
// 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
// It runs once per request over the whole token, hence the table.
func isB64Token(s string) bool {
	i := 0
	for i < len(s) && b64tokenChars[s[i]] {
		i++
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

// cookieValues returns the values of every cookie called name in the
// request's Cookie headers.
func cookieValues(headers []string, name string) []string {
	var out []string
	for _, h := range headers {
		cookies, err := http.ParseCookie(h)
		if err != nil {
			continue
		}
		for _, c := range cookies {
			if c.Name == name {
				out = append(out, c.Value)
			}
		}
	}
	return out
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

// VerifyRequest finds the token in r and verifies it, as Verify does, with
// the request's proof of possession when the token is bound to a key or a
// certificate. The claims are the caller's own copy (see Claims).
func (v *Verifier) VerifyRequest(ctx context.Context, r Request) (*Claims, error) {
	tr := v.tel.begin()
	c, e := v.verifyRequest(ctx, r, &tr)
	return own(decided(ctx, v.tel, &tr, c, e))
}

func (v *Verifier) verifyRequest(ctx context.Context, r Request, tr *trace) (*Claims, *Error) {
	return v.judgeRequest(ctx, r, tr, judge{single: v})
}

// Check is what every middleware does with a request: reuse the claims
// that this same Verifier produced for an earlier middleware on the request,
// or authenticate r, then apply the policies. It returns the claims to store
// in the request's context, or the refusal, always a *Error, to render with
// Response.
//
// The claims are the ones kept for the token, shared by all its requests,
// so that an accepted request costs no copy: store them with NewContext,
// whose FromContext hands out copies, and never give them to application
// code as they are (see Checker). Applications call VerifyRequest.
//
// Claims in ctx that another Verifier produced (an outer middleware trusting
// another issuer or audience), or that were built or copied outside bouncer,
// are never reused: the request's own token is verified instead.
func (v *Verifier) Check(ctx context.Context, r Request, policies ...Policy) (*Claims, error) {
	tr := v.tel.begin()
	c, e := v.check(ctx, r, policies, &tr)
	return decided(ctx, v.tel, &tr, c, e)
}

func (v *Verifier) check(ctx context.Context, r Request, policies []Policy, tr *trace) (*Claims, *Error) {
	c, ok := fromContext(ctx)
	if !ok || !c.verifiedBy(v) {
		var e *Error
		if c, e = v.verifyRequest(ctx, r, tr); e != nil {
			return c, e
		}
	}
	if err := authorize(c, policies); err != nil {
		return c, requestScheme(policyError(err), r) // the claims, for the decision's report
	}
	return c, nil
}

// requestScheme puts a policy's refusal in the scheme the request used.
func requestScheme(e *Error, r Request) *Error {
	if auth := r.Header("Authorization"); len(auth) == 1 {
		if _, scheme := parseAuthorization(auth[0]); scheme == "DPoP" {
			return withScheme(e, "DPoP")
		}
	}
	return e
}

// Response renders err, as returned by Check, VerifyRequest, Verify or a
// Policy, into the HTTP answer, with this Verifier's realm.
func (v *Verifier) Response(err error) Response {
	return renderResponse(err, v.realm, v.metadata, v.dpop)
}
