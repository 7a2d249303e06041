package countryapi

import (
	"errors"
	"strings"
)

// Scopes of the country API. ScopeCountryRead guards the country lookup;
// ScopeCustomerRead is granted to the development client too, so that the
// token it gets looks like one from a real issuer that knows several APIs.
const (
	ScopeCountryRead  = "country.read"
	ScopeCustomerRead = "customer.read"
)

// DefaultAddr is where the examples listen when ADDR is not set: the port
// the seed tutorial's resource server uses.
const DefaultAddr = ":8091"

// DevAudience is the audience of the development issuer's tokens when
// AUDIENCE is not set.
const DevAudience = "country-api"

// Config is an example server's configuration.
type Config struct {
	// IssuerURL is the issuer whose tokens are accepted. Empty means: start
	// the embedded development issuer.
	IssuerURL string
	// Audiences this API answers to (the aud of its tokens).
	Audiences []string
	// Addr is the listen address.
	Addr string
	// ResourceURL is the API's RFC 9728 resource identifier, for the
	// examples that publish their metadata (examples/mcp). Empty means the
	// URL a local client reaches the listener at: configured, never taken
	// from a request's Host header.
	ResourceURL string
}

// Dev reports whether the configuration asks for the development issuer.
func (c Config) Dev() bool { return c.IssuerURL == "" }

// ConfigFromEnv reads ISSUER_URL, AUDIENCE (comma-separated), ADDR and
// RESOURCE_URL through getenv (os.Getenv, or a map in tests). A real issuer needs its
// audience named: accepting tokens for any audience would let a token meant
// for another API in through this one.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		IssuerURL:   strings.TrimSpace(getenv("ISSUER_URL")),
		Audiences:   splitList(getenv("AUDIENCE")),
		Addr:        strings.TrimSpace(getenv("ADDR")),
		ResourceURL: strings.TrimSpace(getenv("RESOURCE_URL")),
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if len(cfg.Audiences) == 0 {
		if !cfg.Dev() {
			return Config{}, errors.New("AUDIENCE is required when ISSUER_URL is set: name this API's audience as the issuer writes it in the tokens' aud claim (comma-separated for several)")
		}
		cfg.Audiences = []string{DevAudience}
	}
	return cfg, nil
}

// splitList splits a comma-separated value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
