package bearermcp

import (
	"context"
	"errors"
	"net/http"

	"github.com/modelcontextprotocol/go-sdk/auth"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Require is auth.RequireBearerToken(verify, opts) but for one answer: a
// request whose token could not be judged because the issuer could not be
// reached gets bouncer's 503, with Retry-After and without a challenge, as
// from every other bouncer adapter. The SDK answers every error of a
// TokenVerifier other than auth.ErrInvalidToken and auth.ErrOAuth with 500,
// and its client gives a session up on a 500, while it keeps the session
// and lets the call be retried on a 503. Every other answer, and the
// TokenInfo in the request's context, are the SDK's.
func Require(verify auth.TokenVerifier, opts *auth.RequireBearerTokenOptions) func(http.Handler) http.Handler {
	watched := func(ctx context.Context, token string, r *http.Request) (*auth.TokenInfo, error) {
		info, err := verify(ctx, token, r)
		if err != nil && errors.Is(err, bearer.ErrIssuerUnavailable) {
			if o, ok := ctx.Value(outageKey{}).(*outage); ok {
				o.err = err
			}
		}
		return info, err
	}
	return func(next http.Handler) http.Handler {
		sdk := auth.RequireBearerToken(watched, opts)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// The MCP handler streams: it gets the server's own writer,
			// with its Flusher, not the one that watches for a 500.
			if o, ok := w.(*outage); ok {
				w = o.ResponseWriter
			}
			next.ServeHTTP(w, r)
		}))
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			o := &outage{ResponseWriter: w}
			sdk.ServeHTTP(o, r.WithContext(context.WithValue(r.Context(), outageKey{}, o)))
		})
	}
}

type outageKey struct{}

// outage replaces the SDK's 500 with bouncer's 503 when the verifier has
// reported the issuer unavailable; it passes anything else through.
type outage struct {
	http.ResponseWriter
	err      error // the verifier's ErrIssuerUnavailable, if any
	answered bool
}

func (o *outage) WriteHeader(status int) {
	if o.err == nil || status != http.StatusInternalServerError {
		o.ResponseWriter.WriteHeader(status)
		return
	}
	resp := bearer.ResponseFor(o.err, "")
	for k, v := range resp.Header {
		o.Header()[k] = v
	}
	o.ResponseWriter.WriteHeader(resp.Status)
	_, _ = o.ResponseWriter.Write(resp.Body)
	o.answered = true
}

// Write drops the SDK's text once bouncer's answer is written.
func (o *outage) Write(b []byte) (int, error) {
	if o.answered {
		return len(b), nil
	}
	return o.ResponseWriter.Write(b)
}
