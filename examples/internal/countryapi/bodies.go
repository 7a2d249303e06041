package countryapi

import (
	"context"
	"log/slog"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// TokenInfo is the answer of GET /api/data: what the API learnt about its
// caller from the verified token.
type TokenInfo struct {
	ClientID string   `json:"client_id"`
	Audience []string `json:"audience"`
	Scopes   []string `json:"scopes"`
}

// InfoFrom describes c. Empty lists are [] rather than null, so that callers
// need not handle both.
func InfoFrom(c *bearer.Claims) TokenInfo {
	return TokenInfo{ClientID: c.ClientID, Audience: nonNil(c.Audience), Scopes: nonNil(c.Scopes)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Health is the answer of GET /healthz.
type Health struct {
	Status      string `json:"status"`
	IssuerReady bool   `json:"issuer_ready"`
}

// readyTimeout bounds the issuer check of a health probe.
const readyTimeout = 2 * time.Second

// CheckHealth reports liveness, which is always ok, and whether v can verify
// tokens yet. An unreachable issuer must not get the server restarted by
// its liveness probe: it is not the server's fault, and a restart would not
// help.
func CheckHealth(ctx context.Context, g *Guard, logger *slog.Logger) Health {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	err := g.Ready(ctx)
	if err != nil {
		logger.Warn("health: the issuer's keys are not available", "issuers", g.issuers, "err", err)
	}
	return Health{Status: "ok", IssuerReady: err == nil}
}

// ErrorBody is the answer to a request the API cannot serve, shaped like
// bouncer's own refusals.
type ErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// UnknownCountry is the 404 answer for a code not in the table. It does not
// repeat the code: what the caller sent is no part of the answer.
func UnknownCountry() ErrorBody {
	return ErrorBody{Error: "not_found", Description: "no country has this code"}
}
