// Package bearer verifies OAuth 2.0 bearer tokens in a resource server: the
// JWT access tokens that one service obtains from an issuer with the
// client-credentials grant and sends to another.
//
// A Verifier is pointed at an issuer by its URL. It finds the issuer's keys
// through discovery (OpenID Connect, falling back to RFC 8414), and accepts
// a token only when its signature verifies with one of them under an
// allowed asymmetric algorithm, its iss is that issuer exactly, its aud
// names this API, and it is within its validity period. Everything else is
// refused by default: "none" and HMAC algorithms, keys not published for
// signing, encrypted or oddly encoded tokens, unknown critical headers.
//
// Issuers differ in how they spell the same facts: Keycloak's scope is a
// space-separated string and its roles sit under realm_access, Entra
// app-only tokens carry roles instead of scp, Spring Authorization Server
// sends scope as a JSON array. Claims normalises them, Typed decodes the
// rest into the application's own struct, and Policy values such as
// RequireScope decide per route.
//
// A client sends the same token for its whole lifetime, so a Verifier
// keeps the claims it verified for a token and answers the token's next
// requests from them. Those kept claims never reach application code:
// every *Claims the application gets (from FromContext, an adapter's
// Claims, Verify, VerifyRequest, or as the argument of a Validator or
// Policy of its own) is a copy of its own, and so is what Typed hands out.
// A handler may change them; the next request never sees it.
//
// Refusals are *Error values wrapping a sentinel (ErrExpired, ErrAudience…)
// for errors.Is, and render, through Response, into the RFC 6750 answer: 400
// invalid_request, 401 invalid_token, 403 insufficient_scope with the scope
// required, or 503 with Retry-After when the issuer cannot be reached, since
// that says nothing about the token. ResourceMetadata is the API's RFC 9728
// document, which every challenge can point to.
//
// # Revocation, delegation and clients
//
// A Revoker (Config.Revocation) takes tokens back before they expire: by
// jti, every token of a client or subject issued before a time, one token
// by its hash; rules purge what they cover from the token cache, so cache
// hits pay nothing for them. bearerredis shares rules across replicas, and
// package ssf turns an identity provider's Shared Signals events into
// rules. Claims.Actor reads an RFC 8693 delegation chain (act), judged by
// RequireActor, RequireNoActor and MaxDelegation; RequireClient admits
// only the clients named.
//
// # Adapters and integrations
//
// Each framework has an adapter, a module of its own under
// github.com/bouncer-go/bouncer/adapters, so that an application downloads
// only its own framework: bearerhttp (net/http, and routers built on it:
// chi, gorilla/mux), bearergin (Gin), bearerecho (Echo v4), bearerecho5
// (Echo v5), bearerfiber (Fiber v2), bearerfiber3 (Fiber v3), bearergrpc
// (gRPC servers, and the client credentials of gRPC callers) and bearermcp
// (servers of the Model Context Protocol's Go SDK). Two integrations plug
// into a Verifier: bearerredis shares introspection answers and DPoP proof
// identifiers between replicas through Redis, and bearerotel turns
// decisions and key events into OpenTelemetry metrics and span attributes.
// The adapters only translate requests and responses; all decisions are
// made here, and one conformance suite (bearertest/conformance) proves
// that they answer alike.
//
// # For adapter authors
//
// Checker, Request, HTTPRequest, AcceptHeaders, AcceptHeaderOf,
// CheckerError, Response, ResponseFor, NewContext and Claims.Clone are what
// an adapter is made of; an application reaches them only through one.
// An adapter takes a Checker (a *Verifier or *MultiVerifier), calls
// CheckerError in its constructor, judges each request with Check over
// the framework's request seen as a Request (HTTPRequest for net/http),
// stores the claims Check returns with NewContext, copies AcceptHeaderOf's
// header onto accepted answers and the Checker's Response onto refusals,
// and passes the conformance suite.
//
// They live here, beside what applications use, rather than in a package
// of their own, because they are part of that same API: Request is what
// Verifier.VerifyRequest and Verifier.Token take, Response is what
// Verifier.Response returns to an application's own error handler, and
// Checker is the type an application's verifier is passed as. A package
// of their own would need Claims and Policy from this one, while this
// one's methods take its Request and return its Response: an import cycle,
// broken only by splitting the API over a third package. Every adapter and
// application would change, and a newcomer would learn three packages
// instead of one.
//
// The claims Check returns are the ones kept for the token, so that an
// accepted request costs no copy; they are for NewContext, whose
// FromContext hands out copies. An adapter that also keeps them in its
// framework's own store (Gin's keys, Echo's, Fiber's locals) keeps them
// there under an unexported type and hands them out with Claims.Clone.
package bearer
