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
		c.Issuer, c.ResourceMetadata = iss, metadataURL
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
	if len(configs) == 1 {
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
	var metadataURL string
	if resource != "" {
		var err error
		if metadataURL, err = (&bearer.ResourceMetadata{Resource: resource}).URL(); err != nil {
			return nil, fmt.Errorf("RESOURCE_URL: %w", err)
		}
	}
	c, err := NewVerifier(cfg, logger, metadataURL)
	if err != nil {
		return nil, err
	}
	g := &Guard{Checker: c, issuers: cfg.IssuerURLs}
	if resource != "" {
		if g.Metadata, err = bearer.NewResourceMetadata(resource, c); err != nil {
			return nil, err
		}
		g.Metadata.ScopesSupported = []string{ScopeCountryRead}
		g.Metadata.ResourceName = "Country API"
	}
	return g, nil
}

// Setup prepares what an example server needs before it serves: the
// development issuer when cfg names no issuer (announced by announce, which
// says how to call the API), then the Guard of the API at apiURL (see
// NewGuard). It tries the issuer once, briefly, so that a wrong ISSUER_URL
// shows in the log at start; an issuer that is down does not stop the
// server, which answers 503 until the issuer is back. stop releases the
// development issuer.
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
	warmCtx, cancel := context.WithTimeout(ctx, warmUpTimeout)
	defer cancel()
	if err := g.Ready(warmCtx); err != nil {
		logger.Warn("the issuer's keys could not be fetched yet; requests get 503 until they can", "issuers", cfg.IssuerURLs, "err", err)
	} else {
		logger.Info("issuer keys loaded", "issuers", cfg.IssuerURLs, "audiences", cfg.Audiences)
	}
	return g, stop, nil
}
