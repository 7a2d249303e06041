package countryapi

import (
	"context"
	"io"
	"log/slog"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// warmUpTimeout bounds the first fetch of the issuer's keys at start.
const warmUpTimeout = 5 * time.Second

// BearerConfig is the bearer.Config of an example server. Tests adjust it
// (an HTTP client, a clock) before calling bearer.New.
func (c Config) BearerConfig(logger *slog.Logger) bearer.Config {
	return bearer.Config{
		Issuer:    c.IssuerURL,
		Audiences: c.Audiences,
		Logger:    logger,
	}
}

// NewVerifier builds the Verifier for cfg.
func NewVerifier(cfg Config, logger *slog.Logger) (*bearer.Verifier, error) {
	return bearer.New(cfg.BearerConfig(logger))
}

// Setup prepares what an example server needs before it serves: the
// development issuer when cfg names no issuer (announced on logger and w,
// with commands that call apiURL), then the Verifier. It tries the issuer
// once, briefly, so that a wrong ISSUER_URL shows in the log at start; an
// issuer that is down does not stop the server, which answers 503 until
// the issuer is back. stop releases the development issuer.
func Setup(ctx context.Context, cfg Config, logger *slog.Logger, w io.Writer, apiURL string) (v *bearer.Verifier, stop func(), err error) {
	stop = func() {}
	if cfg.Dev() {
		dev, err := StartDevIssuer(cfg.Audiences[0])
		if err != nil {
			return nil, nil, err
		}
		cfg.IssuerURL = dev.URL()
		stop = dev.Close
		dev.Announce(logger, w, apiURL)
	}
	v, err = NewVerifier(cfg, logger)
	if err != nil {
		stop()
		return nil, nil, err
	}
	warmCtx, cancel := context.WithTimeout(ctx, warmUpTimeout)
	defer cancel()
	if err := v.Ready(warmCtx); err != nil {
		logger.Warn("the issuer's keys could not be fetched yet; requests get 503 until they can", "issuer", cfg.IssuerURL, "err", err)
	} else {
		logger.Info("issuer keys loaded", "issuer", cfg.IssuerURL, "audiences", cfg.Audiences)
	}
	return v, stop, nil
}
