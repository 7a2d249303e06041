package bearerfiber3

import (
	"crypto/x509"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v3"
)

// request adapts fiber.Ctx to bearer.Request. fasthttp's bytes are only
// valid until the handler returns, so every string it gives is a copy.
type request struct{ c fiber.Ctx }

func (q request) Header(name string) []string {
	var out []string
	for _, v := range q.c.Request().Header.PeekAll(name) {
		out = append(out, string(v))
	}
	return out
}

// Query parses the raw query string with net/url, as net/http does, so
// that a query fasthttp would read differently carries the same token here
// as there.
func (q request) Query(name string) []string {
	v, _ := url.ParseQuery(string(q.c.Request().URI().QueryString()))
	return v[name]
}

// Method is copied too, although Fiber v3 answers from its own table of
// method names rather than from the request's bytes: a few bytes keep
// every string handed to bearer independent of how Fiber finds it.
func (q request) Method() string { return strings.Clone(q.c.Method()) }

// Form parses the raw body with net/url, as net/http does, rather than
// with fasthttp's PostArgs, which keeps whatever it parsed of a malformed
// body: a body net/http refuses must carry no token here either. c.Body
// is not used because it decompresses, which net/http does not.
func (q request) Form(name string) []string {
	v, err := url.ParseQuery(string(q.c.Request().Body()))
	if err != nil {
		return nil
	}
	return v[name]
}

// Path is the path as the client sent it, before Fiber decodes or
// normalises it.
func (q request) Path() string { return string(q.c.Request().URI().PathOriginal()) }

func (q request) ClientCertificate() *x509.Certificate {
	if tls := q.c.RequestCtx().TLSConnectionState(); tls != nil && len(tls.PeerCertificates) > 0 {
		return tls.PeerCertificates[0]
	}
	return nil
}
