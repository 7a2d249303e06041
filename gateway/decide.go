package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// verdict is the gateway's answer about one original request, for any
// front door to render: Envoy's CheckResponse, or a forward-auth answer.
type verdict struct {
	allowed bool
	// A refusal: package bearer's answer (or the gateway's own, for
	// requests no route matches), sent to the client as it is.
	resp bearer.Response
	// An acceptance: the claim headers to set upstream, those to remove,
	// and the headers for the client's answer (DPoP-Nonce).
	set    []header
	remove []string
	accept http.Header

	route  string // the route's name, "" when none matched
	reason string // bearer.Reason of the refusal, or the gateway's
}

// decide judges o. Every decision about the token comes from package
// bearer (Checker.Check with the route's policies, Response for the
// refusal), so the gateway answers exactly as bouncer's middleware does.
func (g *Gateway) decide(ctx context.Context, front string, o *original) verdict {
	v := g.judge(ctx, o)
	g.count(ctx, front, v)
	return v
}

func (g *Gateway) judge(ctx context.Context, o *original) verdict {
	path, err := normalPath(o.path)
	if err != nil {
		return g.refuse(o, "", "invalid_path", http.StatusBadRequest, "invalid_request", err.Error())
	}
	r := g.routeFor(o.method, o.host, path)
	if r == nil {
		return g.refuse(o, "", "no_route", http.StatusForbidden, "access_denied", "no route of the gateway allows this request")
	}
	if r.auth == authSkip {
		v := verdict{allowed: true, route: r.name}
		v.set, v.remove = g.headers.values(nil)
		g.logDecision(ctx, o, v)
		return v
	}
	g.setOrigin(o)
	claims, err := g.checker.Check(ctx, o, r.policies...)
	switch {
	case err == nil:
	case r.auth == authOptional && errors.Is(err, bearer.ErrMissingToken):
		claims = nil
	default:
		v := verdict{resp: g.checker.Response(err), route: r.name, reason: bearer.Reason(err)}
		g.logDecision(ctx, o, v)
		return v
	}
	v := verdict{allowed: true, route: r.name, accept: bearer.AcceptHeaderOf(g.checker)}
	v.set, v.remove = g.headers.values(claims)
	g.logDecision(ctx, o, v)
	return v
}

// setOrigin gives o the public origin its DPoP proof must name: the one
// configured for its host, else the default ("*"), else (with
// forwarded-origin) the one the trusted proxy reports, else none, and
// the proof is refused.
func (g *Gateway) setOrigin(o *original) {
	if g.origins == nil {
		o.proto, o.fwdHost = "", ""
		return
	}
	if org, ok := g.origins[o.host]; ok {
		o.proto, o.fwdHost, o.pathPrefix = org.proto, org.host, org.prefix
		return
	}
	if org, ok := g.origins["*"]; ok {
		o.proto, o.fwdHost, o.pathPrefix = org.proto, org.host, org.prefix
		return
	}
	if !g.forwardedOrigin {
		o.proto, o.fwdHost = "", ""
	}
}

// refuse is the gateway's own refusal, in the shape of bouncer's: a JSON
// body {"error", "error_description"} and no challenge, since no token
// could change the answer.
func (g *Gateway) refuse(o *original, route, reason string, status int, code, description string) verdict {
	v := verdict{resp: plainRefusal(status, code, description), route: route, reason: reason}
	g.logDecision(context.Background(), o, v)
	return v
}

func plainRefusal(status int, code, description string) bearer.Response {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	body, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, description})
	return bearer.Response{Status: status, Header: h, Body: body}
}

// logDecision logs every decision at Debug: the route, the original
// method, host and path (never the query, which may hold a token) and
// the outcome. Refusals are summarised at Info by package bearer.
func (g *Gateway) logDecision(ctx context.Context, o *original, v verdict) {
	if !g.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	status := http.StatusOK
	if !v.allowed {
		status = v.resp.Status
	}
	g.log.LogAttrs(ctx, slog.LevelDebug, "gateway: decision",
		slog.String("route", v.route), slog.String("method", o.method), slog.String("host", o.host),
		slog.String("path", o.path), slog.Int("status", status), slog.String("reason", v.reason))
}
