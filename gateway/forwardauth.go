package gateway

import (
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// maxFormBytes bounds a forwarded form body read for a form token.
const maxFormBytes = 64 << 10

// forwardAuth answers Traefik's ForwardAuth, Caddy's forward_auth and
// nginx's auth_request: the proxy sends the original request's headers
// and says what the request was in X-Forwarded-Method and
// X-Forwarded-Uri (Traefik, Caddy) or X-Original-Method and
// X-Original-URI (nginx) or X-Original-URL (ingress-nginx, a whole URL),
// with X-Forwarded-Proto and X-Forwarded-Host. Only a trusted proxy is believed. An acceptance is
// 200 with the claim headers, for the proxy to copy upstream; a refusal
// is bouncer's answer (401, 403, 400 or 503 with its challenge and
// body), for the proxy to return to the client.
func (g *Gateway) forwardAuth(w http.ResponseWriter, r *http.Request) {
	g.forward(w, r, answerPlain)
}

// nginxAuth is forwardAuth for nginx's auth_request, which hands the
// client only 401 and 403 (copying, in nginx 1.22, a single
// WWW-Authenticate of the subrequest's), drops the subrequest's body and
// turns every other status into 500. Every refusal is therefore answered
// 403, which nginx passes on untouched, with what the error_page location
// of the README's recipe needs to give the client bouncer's own answer,
// in headers the client never sees: X-Bouncer-Status, X-Bouncer-Body and
// X-Bouncer-Www-Authenticate (every challenge, comma-separated, as RFC
// 9110 allows). Without the recipe the client gets 403: it fails closed.
func (g *Gateway) nginxAuth(w http.ResponseWriter, r *http.Request) {
	g.forward(w, r, answerNginx)
}

// answer says which proxy reads a verdict.
type answer int

const (
	answerPlain answer = iota // Traefik, Caddy
	answerNginx
	answerEnvoy // Envoy's HTTP mode
)

func (g *Gateway) forward(w http.ResponseWriter, r *http.Request, as answer) {
	if !g.fromProxy(w, r) {
		return
	}
	method, err1 := oneHeader(r.Header, "X-Forwarded-Method", "X-Original-Method")
	uri, err2 := oneHeader(r.Header, "X-Forwarded-Uri", "X-Original-Uri", "X-Original-Url")
	host, err3 := oneHeader(r.Header, "X-Forwarded-Host")
	proto, err4 := oneHeader(r.Header, "X-Forwarded-Proto")
	// ingress-nginx's auth-url sends the whole URL in X-Original-URL.
	if u, err := url.Parse(uri); err == nil && u.IsAbs() {
		host = cmpOr(host, u.Host)
		proto = cmpOr(proto, u.Scheme)
	}
	switch {
	case err1 != "" || err2 != "" || err3 != "" || err4 != "":
		writeResponse(w, plainRefusal(http.StatusBadRequest, "invalid_request", firstNonEmpty(err1, err2, err3, err4)))
		return
	case method == "" || uri == "":
		writeResponse(w, plainRefusal(http.StatusBadRequest, "invalid_request",
			"the proxy did not say which request to check: it must send X-Forwarded-Method and X-Forwarded-Uri (or X-Original-Method and X-Original-URI)"))
		return
	}
	if host == "" {
		host = r.Host
	}
	path, query := splitURI(uri)
	o := &original{
		method:   method,
		host:     hostOnly(firstCSV(host)),
		path:     path,
		rawQuery: query,
		headers:  httpHeaders(r.Header),
		proto:    firstCSV(proto),
		fwdHost:  firstCSV(host),
		cert:     g.certSource(httpHeaders(r.Header), ""),
	}
	if g.allowForm {
		o.form = formBody(r)
	}
	front := "forward_auth"
	if as == answerNginx {
		front = "nginx"
	}
	g.writeVerdict(w, g.decide(r.Context(), front, o), as)
}

// fromProxy refuses a request that does not come from a trusted proxy:
// anyone else could describe any request it likes.
func (g *Gateway) fromProxy(w http.ResponseWriter, r *http.Request) bool {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err == nil && g.trusted(ap.Addr()) {
		return true
	}
	if g.untrustedLog.due() {
		g.log.Warn("gateway: a check from an address that is not a trusted proxy was refused (logged once a minute at most)", "remote", r.RemoteAddr)
	}
	writeResponse(w, plainRefusal(http.StatusForbidden, "access_denied", "checks are answered for trusted proxies only"))
	return false
}

// oneHeader is the value of the first of names the request carries; a
// name sent twice is an error (which proxy said what?).
func oneHeader(h http.Header, names ...string) (value, problem string) {
	for _, n := range names {
		switch v := h.Values(n); len(v) {
		case 0:
			continue
		case 1:
			return strings.TrimSpace(v[0]), ""
		default:
			return "", "the proxy sent " + n + " more than once"
		}
	}
	return "", ""
}

// firstCSV is the first of comma-separated values: the proxy's own, when
// a chain of proxies appended theirs.
func firstCSV(s string) string {
	first, _, _ := strings.Cut(s, ",")
	return strings.TrimSpace(first)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// formBody reads the form fields of a forwarded body, once, when the
// proxy forwarded one; without a body there are none.
func formBody(r *http.Request) func(string) []string {
	var fields url.Values
	read := false
	return func(name string) []string {
		if !read {
			read = true
			if r.Body != nil {
				b, err := io.ReadAll(io.LimitReader(r.Body, maxFormBytes+1))
				if err == nil && len(b) <= maxFormBytes {
					fields, _ = parseForm(string(b))
				}
			}
		}
		return fields[name]
	}
}

// parseForm reads a form body as net/http's ParseForm does: a body that
// does not parse has no fields.
func parseForm(body string) (url.Values, error) {
	v, err := url.ParseQuery(body)
	if err != nil {
		return nil, err
	}
	return v, nil
}

// writeVerdict writes v as a forward-auth answer for the proxy as says.
func (g *Gateway) writeVerdict(w http.ResponseWriter, v verdict, as answer) {
	if !v.allowed {
		resp := v.resp
		if as == answerNginx {
			h := resp.Header.Clone()
			if c := h.Values("WWW-Authenticate"); len(c) > 0 {
				h.Set("X-Bouncer-Www-Authenticate", strings.Join(c, ", "))
			}
			h.Set("X-Bouncer-Status", strconv.Itoa(resp.Status))
			h.Set("X-Bouncer-Body", string(resp.Body))
			resp = bearer.Response{Status: http.StatusForbidden, Header: h, Body: resp.Body}
		}
		writeResponse(w, resp)
		return
	}
	h := w.Header()
	for _, s := range v.set {
		h.Set(s.name, s.value)
	}
	for name, values := range v.accept {
		h[name] = values
	}
	if as == answerEnvoy && len(v.remove) > 0 {
		h.Set("X-Envoy-Auth-Headers-To-Remove", strings.ToLower(strings.Join(v.remove, ", ")))
	}
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func writeResponse(w http.ResponseWriter, resp bearer.Response) {
	h := w.Header()
	for name, values := range resp.Header {
		h[name] = values
	}
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
}
