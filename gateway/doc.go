// Package gateway puts bouncer in front of services written in any
// language: a proxy asks it, for each request, whether the request's token
// is genuine, meant for this API, still valid and allowed on the route,
// and passes the request on (with the token's claims in headers) or
// returns bouncer's refusal to the client. It is what `bouncer serve`
// runs.
//
// Three front doors share one decision:
//
//   - Envoy's external authorization over gRPC (envoy.service.auth.v3):
//     an OK response sets the claim headers upstream and removes the ones
//     a client might have sent; a denial carries bouncer's status,
//     WWW-Authenticate challenge and body.
//   - Envoy's HTTP ext_authz mode, at a path prefix.
//   - HTTP forward-auth for Traefik's ForwardAuth, Caddy's forward_auth and
//     nginx's auth_request: the proxy describes the original request in
//     X-Forwarded-Method/-Uri/-Proto/-Host (or X-Original-Method/-URI), and
//     the gateway answers 200 with claim headers or the refusal.
//
// The decision is package bearer's own: verifiers built with bearer.New or
// bearer.NewMulti judge a bearer.Request whose method, path, query and
// headers are the original request's, through Checker.Check with the
// route's policies, and refusals are rendered by Checker.Response. The
// gateway therefore answers exactly as bouncer's middleware does, DPoP
// (the proof's htu and htm are checked against the URL the client called)
// and certificate-bound tokens included.
//
// Why a front door of its own: proxies' JWT filters and auth proxies each
// get part of this wrong (no key refetch on an unknown kid, 401 instead of
// 503 when the issuer is down, no DPoP, no explanation of a refusal);
// one verifier, one configuration and one set of answers then protect
// every service, whatever it is written in.
//
// Security defaults: a request that matches no route is refused (403);
// only trusted proxies (loopback by default) may ask; paths that servers
// could read differently (dot segments, //, encoded slashes) are refused;
// every configured claim header is set or removed on every accepted
// request, so a client can never supply one; secrets come from the
// environment (${NAME}) and are never logged.
//
// The configuration is YAML (see Config); Load validates it and names the
// file and line of every problem. A Server runs it, with /healthz,
// /readyz (every issuer's keys held), Prometheus-format metrics from
// adapters/bearerotel, reloads on SIGHUP and on file change that never
// drop a request, and a graceful stop.
package gateway
