// Package integration holds the tests that run bouncer's six example
// servers (net/http, Gin, Echo v4 and v5, Fiber v2 and v3) side by side,
// as their commands run them: against an in-process issuer, against the
// embedded development issuer, and against a real, independent issuer
// (panva's oidc-provider on Node.js, see package oidcprovider). Every case runs on each server,
// and the servers must answer the same request byte for byte alike: the
// frameworks differ, bouncer's answers must not. The Connect example runs
// against the real issuer too, called as a Connect, gRPC-Web and gRPC
// client, and its refusals must carry the net/http example's challenges.
package integration
