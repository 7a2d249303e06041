package gateway

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// check answers Envoy's external authorization (envoy.service.auth.v3):
// an acceptance is OK with the claim headers to set upstream (overwriting
// whatever the client sent) and the configured ones it lacks to remove,
// and the DPoP-Nonce for the client; a refusal is a DeniedHttpResponse
// with bouncer's status, challenge and body. A refusal is never an
// error_response, which Envoy's failure_mode_allow would let through:
// an issuer outage is a 503 the client sees.
func (g *Gateway) check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	if p, ok := peer.FromContext(ctx); !ok || !g.trustedAddr(p.Addr.String()) {
		if g.untrustedLog.due() {
			g.log.Warn("gateway: an ext_authz check from an address that is not a trusted proxy was refused (logged once a minute at most)")
		}
		return nil, status.Error(codes.PermissionDenied, "checks are answered for trusted proxies only")
	}
	hr := req.GetAttributes().GetRequest().GetHttp()
	if hr == nil {
		return nil, status.Error(codes.InvalidArgument, "the check carries no HTTP request")
	}
	headers := envoyHeaders(hr)
	path, query := splitURI(hr.GetPath())
	o := &original{
		method:   hr.GetMethod(),
		host:     hostOnly(hr.GetHost()),
		path:     path,
		rawQuery: query,
		headers:  headers,
		proto:    hr.GetScheme(),
		fwdHost:  hr.GetHost(),
		cert:     g.certSource(headers, req.GetAttributes().GetSource().GetCertificate()),
	}
	if g.allowForm {
		body := hr.GetBody()
		if raw := hr.GetRawBody(); len(raw) > 0 {
			body = string(raw)
		}
		o.form = func(name string) []string {
			if len(body) > maxFormBytes {
				return nil
			}
			fields, _ := parseForm(body)
			return fields[name]
		}
	}
	return envoyResponse(g.decide(ctx, "envoy_grpc", o)), nil
}

func (g *Gateway) trustedAddr(hostport string) bool {
	ap, err := netip.ParseAddrPort(hostport)
	return err == nil && g.trusted(ap.Addr())
}

// envoyResponse renders a verdict as Envoy's CheckResponse.
func envoyResponse(v verdict) *authv3.CheckResponse {
	if v.allowed {
		ok := &authv3.OkHttpResponse{HeadersToRemove: lower(v.remove)}
		for _, s := range v.set {
			ok.Headers = append(ok.Headers, headerOption(s.name, s.value, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD))
		}
		for _, name := range sortedKeys(v.accept) {
			for _, value := range v.accept[name] {
				ok.ResponseHeadersToAdd = append(ok.ResponseHeadersToAdd, headerOption(name, value, corev3.HeaderValueOption_OVERWRITE_IF_EXISTS_OR_ADD))
			}
		}
		return &authv3.CheckResponse{Status: &rpcstatus.Status{Code: int32(codes.OK)}, HttpResponse: &authv3.CheckResponse_OkResponse{OkResponse: ok}}
	}
	denied := &authv3.DeniedHttpResponse{Status: &typev3.HttpStatus{Code: typev3.StatusCode(v.resp.Status)}, Body: string(v.resp.Body)}
	for _, name := range sortedKeys(v.resp.Header) {
		for _, value := range v.resp.Header[name] {
			// Several WWW-Authenticate challenges (Bearer and DPoP) are
			// several headers.
			denied.Headers = append(denied.Headers, headerOption(name, value, corev3.HeaderValueOption_APPEND_IF_EXISTS_OR_ADD))
		}
	}
	return &authv3.CheckResponse{
		Status:       &rpcstatus.Status{Code: int32(grpcCode(v.resp.Status)), Message: http.StatusText(v.resp.Status)},
		HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: denied},
	}
}

func headerOption(name, value string, action corev3.HeaderValueOption_HeaderAppendAction) *corev3.HeaderValueOption {
	return &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: strings.ToLower(name), Value: value}, AppendAction: action}
}

// grpcCode is the status a refusal's CheckResponse carries: Envoy denies
// on any but OK; the code says why, for Envoy's logs and stats.
func grpcCode(status int) codes.Code {
	switch status {
	case http.StatusBadRequest:
		return codes.InvalidArgument
	case http.StatusUnauthorized:
		return codes.Unauthenticated
	case http.StatusServiceUnavailable:
		return codes.Unavailable
	}
	return codes.PermissionDenied
}

func lower(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	return out
}

// envoyHeaders are a check's headers: header_map when Envoy sends raw
// headers (encode_raw_headers, every value apart), else the headers map,
// where Envoy joined repeated headers into one value.
type envoyHeaderMap map[string][]string

func envoyHeaders(hr *authv3.AttributeContext_HttpRequest) envoyHeaderMap {
	out := envoyHeaderMap{}
	if hm := hr.GetHeaderMap(); hm != nil && len(hm.GetHeaders()) > 0 {
		for _, h := range hm.GetHeaders() {
			v := h.GetValue()
			if raw := h.GetRawValue(); len(raw) > 0 {
				v = string(raw)
			}
			k := strings.ToLower(h.GetKey())
			out[k] = append(out[k], v)
		}
		return out
	}
	for k, v := range hr.GetHeaders() {
		k = strings.ToLower(k)
		out[k] = append(out[k], v)
	}
	return out
}

func (h envoyHeaderMap) values(name string) []string { return h[strings.ToLower(name)] }

// authorizationServer is the gRPC service.
type authorizationServer struct {
	authv3.UnimplementedAuthorizationServer
	current func() (*Gateway, func())
}

func (s authorizationServer) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	g, done := s.current()
	defer done()
	return g.check(ctx, req)
}
