package countryapi

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
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
	// IssuerURL is the issuer whose tokens are accepted, the first of
	// IssuerURLs. Empty means: start the embedded development issuer.
	IssuerURL string
	// IssuerURLs are all the issuers trusted; an Entra template
	// (https://login.microsoftonline.com/{tenantid}/v2.0) among them
	// accepts every tenant, or those of Tenants.
	IssuerURLs []string
	// Tenants restricts an issuer template to these tenant ids.
	Tenants []string
	// Audiences this API answers to (the aud of its tokens).
	Audiences []string
	// Addr is the listen address.
	Addr string
	// ResourceURL is this API's resource identifier for its RFC 9728
	// metadata. Empty means http://localhost:<port of Addr>.
	ResourceURL string
	// Introspection, when its client is set, judges opaque tokens by the
	// (first) issuer's introspection endpoint.
	Introspection Introspection
	// RedisURL, when set, shares introspection answers with the other
	// replicas of the API through Redis.
	RedisURL string
	// OpaqueDevTokens makes the development issuer issue opaque tokens.
	OpaqueDevTokens bool
	// DPoP is "allowed" (the default), "required" or "disabled".
	DPoP string
	// PublicURL is the URL clients reach the API at, which their DPoP
	// proofs name. Empty means http://localhost:<port of Addr>.
	PublicURL string
	// AllowedClients, when set, are the only clients that may look
	// countries up (bearer.RequireClient on that route, beside its scope).
	AllowedClients []string
}

// Introspection is the client the API introspects tokens as.
type Introspection struct {
	ClientID, ClientSecret string
	URL                    string        // empty: from the issuer's discovery
	MaxAge                 time.Duration // how long an active answer is reused; 0: bouncer's default
	// AllTokens sends JWTs to the endpoint too, for Keycloak's lightweight
	// access tokens and for revocation of JWTs to take effect.
	AllTokens bool
}

// Dev reports whether the configuration asks for the development issuer.
func (c Config) Dev() bool { return c.IssuerURL == "" }

// ConfigFromEnv reads ISSUER_URL (comma-separated for several issuers),
// TENANTS, AUDIENCE (comma-separated), ADDR, RESOURCE_URL,
// INTROSPECTION_CLIENT_ID, INTROSPECTION_CLIENT_SECRET, INTROSPECTION_URL,
// INTROSPECTION_MAX_AGE, INTROSPECTION_ALL_TOKENS (1: JWTs too), REDIS_URL,
// DPOP (allowed, required or disabled), PUBLIC_URL, DEV_TOKENS (jwt or
// opaque) and ALLOWED_CLIENTS (comma-separated client ids) through getenv
// (os.Getenv, or a
// map in tests). A real issuer needs its audience named: accepting tokens
// for any audience would let a token meant for another API in through this
// one.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		IssuerURLs:  splitList(getenv("ISSUER_URL")),
		Tenants:     splitList(getenv("TENANTS")),
		Audiences:   splitList(getenv("AUDIENCE")),
		Addr:        strings.TrimSpace(getenv("ADDR")),
		ResourceURL: strings.TrimSpace(getenv("RESOURCE_URL")),
		Introspection: Introspection{
			ClientID:     strings.TrimSpace(getenv("INTROSPECTION_CLIENT_ID")),
			ClientSecret: getenv("INTROSPECTION_CLIENT_SECRET"),
			URL:          strings.TrimSpace(getenv("INTROSPECTION_URL")),
		},
		RedisURL:  strings.TrimSpace(getenv("REDIS_URL")),
		DPoP:      strings.TrimSpace(getenv("DPOP")),
		PublicURL: strings.TrimSpace(getenv("PUBLIC_URL")),

		AllowedClients: splitList(getenv("ALLOWED_CLIENTS")),
	}
	switch cfg.DPoP {
	case "", "allowed", "required", "disabled":
	default:
		return Config{}, fmt.Errorf("DPOP is %q: allowed, required or disabled", cfg.DPoP)
	}
	if v := strings.TrimSpace(getenv("INTROSPECTION_MAX_AGE")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return Config{}, fmt.Errorf("INTROSPECTION_MAX_AGE: %w", err)
		}
		cfg.Introspection.MaxAge = d
	}
	if len(cfg.IssuerURLs) > 0 {
		cfg.IssuerURL = cfg.IssuerURLs[0]
	}
	switch t := strings.TrimSpace(getenv("DEV_TOKENS")); t {
	case "", "jwt":
	case "opaque":
		cfg.OpaqueDevTokens = true
	default:
		return Config{}, fmt.Errorf("DEV_TOKENS is %q: jwt or opaque", t)
	}
	switch v := strings.TrimSpace(getenv("INTROSPECTION_ALL_TOKENS")); v {
	case "", "0":
	case "1":
		cfg.Introspection.AllTokens = true
	default:
		return Config{}, fmt.Errorf("INTROSPECTION_ALL_TOKENS is %q: 1 to introspect JWTs too, or 0", v)
	}
	if (cfg.Introspection.ClientID == "") != (cfg.Introspection.ClientSecret == "") {
		return Config{}, errors.New("INTROSPECTION_CLIENT_ID and INTROSPECTION_CLIENT_SECRET go together")
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

// LogLevel reads LOG_LEVEL through getenv: debug, info (the default),
// warn or error, in any case. At debug, bouncer logs every refusal with
// its reason; at info, a summary of them a minute after the first.
func LogLevel(getenv func(string) string) (slog.Level, error) {
	v := strings.TrimSpace(getenv("LOG_LEVEL"))
	if v == "" {
		return slog.LevelInfo, nil
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(v)); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL is %q: debug, info, warn or error", v)
	}
	return level, nil
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
