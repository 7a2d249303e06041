// Package countryapi holds what bouncer's example servers share, whatever
// their web framework: the country table they serve, their configuration
// from the environment, the embedded development issuer, the Verifier built
// from the configuration, the answers they give, byte for byte, and how they
// serve and shut down.
//
// Each example (net/http, Gin, Echo v4 and v5, Fiber v2 and v3) keeps only
// its routing and its framework's way of writing a response, so that the
// examples differ exactly where the frameworks do.
package countryapi
