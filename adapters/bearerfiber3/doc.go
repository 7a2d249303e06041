// Package bearerfiber3 protects Fiber v3 routes with bearer tokens checked
// by a bearer.Verifier. For Fiber v2, use package bearerfiber.
//
// The package only translates: every decision (which token, whether it is
// valid, whether a policy holds, what the refusal looks like) is made by
// package bearer, so the same request gets the same answer here as in the
// net/http, Gin, Echo and Fiber v2 adapters.
//
// Handlers read the claims with Claims(c), or with bearer.FromContext on
// c.Context(), which is what code taking a context.Context should be
// given. A fiber.Ctx is a context.Context too, but its Value reads
// c.Locals, where bearer.FromContext finds nothing: hand such code
// c.Context(), not c.
//
// Fiber reads a request's headers into a buffer of Config.ReadBufferSize
// bytes, 4 KiB by default, and answers 431 to anything longer before any
// handler runs. A token of bearer.Config.MaxTokenBytes (16 KiB by default)
// does not fit, so set ReadBufferSize above MaxTokenBytes plus the rest of
// the headers, e.g. fiber.Config{ReadBufferSize: 32 << 10}; otherwise long
// tokens get Fiber's 431 instead of bouncer's 401.
//
// With Config.DisableHeaderNormalizing set, fasthttp matches header names as
// spelled, so the token is found only in a header named exactly
// "Authorization".
//
// fasthttp reuses a request's memory once its handler returns. The header
// values handed to package bearer are views of that memory, read only
// while the request is judged; bearer copies what it keeps (see
// bearer.Request), and the claims are never views: they stay valid after
// the request, with or without Config.Immutable. An accepted request with
// a token bearer has seen before allocates nothing.
package bearerfiber3
