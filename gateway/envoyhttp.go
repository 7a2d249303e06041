package gateway

import (
	"net/http"
	"strings"
)

// envoyHTTP answers Envoy's HTTP ext_authz service: Envoy sends the
// original method and the original path behind the service's
// path_prefix, with the original Host and the headers its allowed_headers
// let through (Authorization always; DPoP, Cookie, x-forwarded-proto and
// x-forwarded-client-cert must be listed). An acceptance is 200 with the
// claim headers (for allowed_upstream_headers) and
// x-envoy-auth-headers-to-remove naming the configured claim headers it
// does not set; a refusal is bouncer's answer, which Envoy returns to the
// client.
func (g *Gateway) envoyHTTP(prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !g.fromProxy(w, r) {
			return
		}
		uri := strings.TrimPrefix(r.RequestURI, prefix)
		if !strings.HasPrefix(uri, "/") {
			uri = "/" + uri
		}
		proto, problem := oneHeader(r.Header, "X-Forwarded-Proto")
		if problem != "" {
			writeResponse(w, plainRefusal(http.StatusBadRequest, "invalid_request", problem))
			return
		}
		path, query := splitURI(uri)
		h := httpHeaders(r.Header)
		o := &original{
			method:   r.Method,
			host:     hostOnly(r.Host),
			path:     path,
			rawQuery: query,
			headers:  h,
			proto:    firstCSV(proto),
			fwdHost:  r.Host,
			cert:     g.certSource(h, ""),
		}
		if g.allowForm {
			o.form = formBody(r)
		}
		g.writeVerdict(w, g.decide(r.Context(), "envoy_http", o), answerEnvoy)
	}
}
