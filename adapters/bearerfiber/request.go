package bearerfiber

import (
	"crypto/x509"
	"net/url"
	"sync"
	"unsafe"

	"github.com/gofiber/fiber/v2"
)

// request adapts *fiber.Ctx to bearer.Request. Its header strings are
// views of fasthttp's buffers, valid until the handler returns, which is
// all package bearer asks (see bearer.Request): bearer copies what it
// keeps, so an accepted request costs no copy of its token. Requests come
// from a pool, each with the slice Header answers in, so that judging a
// request allocates nothing.
type request struct {
	c      *fiber.Ctx
	values []string // Header's answer, reused
}

var requests = sync.Pool{New: func() any { return &request{values: make([]string, 0, 2)} }}

// newRequest takes a request for c from the pool; release returns it.
func newRequest(c *fiber.Ctx) *request {
	q := requests.Get().(*request)
	q.c = c
	return q
}

// release forgets the request's views of fasthttp's buffers and pools it.
func (q *request) release() {
	q.c = nil
	clear(q.values[:cap(q.values)])
	q.values = q.values[:0]
	requests.Put(q)
}

// view is b as a string, without a copy.
func view(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func (q *request) Header(name string) []string {
	q.values = q.values[:0]
	for _, v := range q.c.Request().Header.PeekAll(name) {
		q.values = append(q.values, view(v))
	}
	return q.values
}

// Query parses the raw query string with net/url, as net/http does, so
// that a query fasthttp would read differently carries the same token here
// as there.
func (q *request) Query(name string) []string {
	v, _ := url.ParseQuery(string(q.c.Request().URI().QueryString()))
	return v[name]
}

func (q *request) Method() string { return q.c.Method() }

// Form parses the raw body with net/url, as net/http does, rather than
// with fasthttp's PostArgs, which keeps whatever it parsed of a malformed
// body: a body net/http refuses must carry no token here either. c.Body
// is not used because it decompresses, which net/http does not.
func (q *request) Form(name string) []string {
	v, err := url.ParseQuery(string(q.c.Request().Body()))
	if err != nil {
		return nil
	}
	return v[name]
}

// Path is the path as the client sent it, before Fiber decodes or
// normalises it.
func (q *request) Path() string { return view(q.c.Request().URI().PathOriginal()) }

func (q *request) ClientCertificate() *x509.Certificate {
	if tls := q.c.Context().TLSConnectionState(); tls != nil && len(tls.PeerCertificates) > 0 {
		return tls.PeerCertificates[0]
	}
	return nil
}
