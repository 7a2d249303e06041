package countryapi

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
)

// warmUpTimeout bounds the first fetch of the issuer's keys at start.
const warmUpTimeout = 5 * time.Second

// Guard is what an example's routes are guarded with: the verifier of its
// issuer (or issuers), which every bouncer adapter takes as a
// bearer.Checker, and the API's RFC 9728 metadata, which the routes serve
// and every challenge names.
type Guard struct {
	bearer.Checker
	Metadata *bearer.ResourceMetadata
	issuers  []string
	country  bearer.Policy
}

// CountryPolicy guards the country lookup: the scope country.read, and,
// when ALLOWED_CLIENTS names clients, a token issued to one of them.
func (g *Guard) CountryPolicy() bearer.Policy { return g.country }

// countryPolicy is the country lookup's policy for cfg.
func countryPolicy(cfg Config) bearer.Policy {
	scope := bearer.RequireScope(ScopeCountryRead)
	if len(cfg.AllowedClients) == 0 {
		return scope
	}
	return bearer.All(scope, bearer.RequireClient(cfg.AllowedClients...))
}

// Close ends what the verifier does in the background and writes its
// summary of refusals not yet logged (see bearer.Verifier.Close). Both
// verifiers NewVerifier builds have Close.
func (g *Guard) Close() error {
	return g.Checker.(interface{ Close() error }).Close()
}

// Ready fetches every issuer's keys now, if needed, and reports whether
// tokens can be verified. Both verifiers NewVerifier builds, a Verifier
// and a MultiVerifier, have Ready.
func (g *Guard) Ready(ctx context.Context) error {
	return g.Checker.(interface{ Ready(context.Context) error }).Ready(ctx)
}

// BearerConfig is the bearer.Config of an example server's issuer. Tests
// adjust it (an HTTP client, a clock) before calling bearer.New.
func (c Config) BearerConfig(logger *slog.Logger) bearer.Config {
	return bearer.Config{
		Issuer:    c.IssuerURL,
		Audiences: c.Audiences,
		Logger:    logger,
	}
}

// NewVerifier builds the verifier for cfg: one issuer, or a MultiVerifier
// of all of them, introspecting opaque tokens with the first when an
// introspection client is configured, and naming the metadata at
// metadataURL in its challenges.
func NewVerifier(cfg Config, logger *slog.Logger, metadataURL string) (bearer.Checker, error) {
	configs, err := issuerConfigs(cfg, logger)
	if err != nil {
		return nil, err
	}
	return newChecker(configs, metadataURL)
}

// issuerConfigs are the bearer.Config of each of cfg's issuers.
func issuerConfigs(cfg Config, logger *slog.Logger) ([]bearer.Config, error) {
	issuers := cfg.IssuerURLs
	if len(issuers) == 0 {
		issuers = []string{cfg.IssuerURL}
	}
	var shared bearer.SharedCache
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		shared = bearerredis.New(redis.NewClient(opts))
	}
	configs := make([]bearer.Config, len(issuers))
	for i, iss := range issuers {
		c := cfg.BearerConfig(logger)
		c.Issuer = iss
		if cfg.PublicURL != "" {
			c.DPoP = &bearer.DPoP{PublicURL: cfg.PublicURL, Mode: dpopMode(cfg.DPoP)}
		}
		if strings.Contains(iss, bearer.TenantPlaceholder) {
			c.Tenants = cfg.Tenants
		}
		if i == 0 && cfg.Introspection.ClientID != "" {
			c.Introspection = &bearer.Introspection{
				ClientID:     cfg.Introspection.ClientID,
				ClientSecret: cfg.Introspection.ClientSecret,
				URL:          cfg.Introspection.URL,
				MaxAge:       cfg.Introspection.MaxAge,
				AllTokens:    cfg.Introspection.AllTokens,
				Shared:       shared,
			}
		}
		configs[i] = c
	}
	return configs, nil
}

// newChecker builds the verifier of configs, naming the metadata at
// metadataURL in its challenges.
func newChecker(configs []bearer.Config, metadataURL string) (bearer.Checker, error) {
	if len(configs) == 1 {
		configs[0].ResourceMetadata = metadataURL
		return bearer.New(configs[0])
	}
	return bearer.NewMulti(bearer.MultiConfig{Issuers: configs, ResourceMetadata: metadataURL})
}

// dpopMode reads DPOP's values.
func dpopMode(s string) bearer.DPoPMode {
	switch s {
	case "required":
		return bearer.DPoPRequired
	case "disabled":
		return bearer.DPoPDisabled
	}
	return bearer.DPoPAllowed
}

// NewGuard builds the verifier and the metadata of the API at apiURL (the
// resource identifier unless cfg.ResourceURL says otherwise, and the URL of
// DPoP proofs unless cfg.PublicURL does). An API that is not served over
// HTTP (gRPC) passes no apiURL and has no metadata.
func NewGuard(cfg Config, logger *slog.Logger, apiURL string) (*Guard, error) {
	if cfg.PublicURL == "" {
		cfg.PublicURL = apiURL
	}
	resource := cfg.ResourceURL
	if resource == "" {
		resource = apiURL
	}
	configs, err := issuerConfigs(cfg, logger)
	if err != nil {
		return nil, err
	}
	// The metadata first, from the configuration: the verifier names it
	// in its challenges.
	g := &Guard{issuers: cfg.IssuerURLs, country: countryPolicy(cfg)}
	var metadataURL string
	if resource != "" {
		if _, err := bearer.NewResourceMetadata(resource); err != nil {
			return nil, fmt.Errorf("RESOURCE_URL: %w", err)
		}
		if g.Metadata, err = bearer.NewResourceMetadata(resource, configs...); err != nil {
			return nil, err
		}
		g.Metadata.ScopesSupported = []string{ScopeCountryRead}
		g.Metadata.ResourceName = "Country API"
		metadataURL = g.Metadata.URL()
	}
	if g.Checker, err = newChecker(configs, metadataURL); err != nil {
		return nil, err
	}
	return g, nil
}

// Setup prepares what an example server needs before it serves: the
// development issuer when cfg names no issuer (announced by announce, which
// says how to call the API), then the Guard of the API at apiURL (see
// NewGuard). It tries the issuer once, briefly, so that a wrong ISSUER_URL
// shows in the log at start; an issuer that is down does not stop the
// server, which answers 503 until the issuer is back. stop, for when the
// server has stopped serving, closes the verifier (writing its last
// summary of refusals) and releases the development issuer.
func Setup(ctx context.Context, cfg Config, logger *slog.Logger, apiURL string, announce func(*DevIssuer)) (g *Guard, stop func(), err error) {
	stop = func() {}
	if cfg.Dev() {
		dev, err := StartDevIssuer(cfg.Audiences[0], cfg.OpaqueDevTokens)
		if err != nil {
			return nil, nil, err
		}
		cfg.IssuerURL, cfg.IssuerURLs = dev.URL(), []string{dev.URL()}
		if cfg.OpaqueDevTokens {
			cfg.Introspection = Introspection{ClientID: DevAPIClientID, ClientSecret: dev.APISecret}
		}
		stop = dev.Close
		announce(dev)
	}
	g, err = NewGuard(cfg, logger, apiURL)
	if err != nil {
		stop()
		return nil, nil, err
	}
	releaseIssuer := stop
	stop = func() {
		_ = g.Close()
		releaseIssuer()
	}
	warmCtx, cancel := context.WithTimeout(ctx, warmUpTimeout)
	defer cancel()
	if err := g.Ready(warmCtx); err != nil {
		logger.Warn("the issuer's keys could not be fetched yet; requests get 503 until they can", "issuers", cfg.IssuerURLs, "err", err)
	} else {
		logger.Info("issuer keys loaded", "issuers", cfg.IssuerURLs, "audiences", cfg.Audiences)
	}
	return g, stop, nil
}
