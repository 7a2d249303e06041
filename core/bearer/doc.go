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
// sends scope as a JSON array. Claims normalises them, and Policy values
// such as RequireScope decide per route.
//
// Refusals are *Error values wrapping a sentinel (ErrExpired, ErrAudience…)
// for errors.Is, and render, through Response, into the RFC 6750 answer: 400
// invalid_request, 401 invalid_token, 403 insufficient_scope with the scope
// required, or 503 with Retry-After when the issuer cannot be reached, since
// that says nothing about the token.
//
// The framework adapters (bearerhttp, bearergin, bearerecho, bearerfiber)
// only translate requests and responses; all decisions are made here.
package bearer
