package bearergrpc

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// CredentialsOption configures the credentials of TokenSource.
type CredentialsOption func(*tokenCredentials)

// WithInsecureTransport lets the token travel over connections without
// transport security, such as grpc.WithTransportCredentials(
// insecure.NewCredentials()). Anyone on the path can read and replay it:
// use it for loopback tests and development only.
func WithInsecureTransport() CredentialsOption {
	return func(c *tokenCredentials) { c.insecure = true }
}

// TokenSource returns per-RPC credentials that send a token of ts with
// every call, as "authorization: Bearer <token>": pass them to
// grpc.WithPerRPCCredentials. ts is usually
// clientcredentials.Config.TokenSource(ctx), which caches the token and
// gets a new one shortly before it expires.
//
// The credentials require transport security (TLS) unless
// WithInsecureTransport says otherwise. A call whose token cannot be had
// fails with Unauthenticated when the issuer refused it (a wrong secret, a
// scope the client may not have) and with Unavailable when the issuer
// could not be asked.
func TokenSource(ts oauth2.TokenSource, opts ...CredentialsOption) credentials.PerRPCCredentials {
	c := &tokenCredentials{ts: ts}
	for _, o := range opts {
		o(c)
	}
	return c
}

type tokenCredentials struct {
	ts       oauth2.TokenSource
	insecure bool
}

func (c *tokenCredentials) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	if !c.insecure {
		ri, _ := credentials.RequestInfoFromContext(ctx)
		if err := credentials.CheckSecurityLevel(ri.AuthInfo, credentials.PrivacyAndIntegrity); err != nil {
			return nil, status.Errorf(codes.Unauthenticated, "bearergrpc: a bearer token needs a secure connection: %v", err)
		}
	}
	tok, err := c.ts.Token()
	if err != nil {
		return nil, tokenError(err)
	}
	// Type is "Bearer" for a token_type of any case, and for none.
	if tok.Type() != "Bearer" {
		return nil, status.Errorf(codes.Unauthenticated, "bearergrpc: the issuer sent a %s token, not a bearer token", tok.Type())
	}
	return map[string]string{"authorization": "Bearer " + tok.AccessToken}, nil
}

func (c *tokenCredentials) RequireTransportSecurity() bool { return !c.insecure }

// tokenError is the status of a call whose token could not be had: the
// issuer's refusal is final, anything else may pass on a retry.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < http.StatusInternalServerError {
		return status.Errorf(codes.Unauthenticated, "bearergrpc: the issuer refused a token: %v", err)
	}
	return status.Error(codes.Unavailable, fmt.Sprintf("bearergrpc: no token from the issuer: %v", err))
}
