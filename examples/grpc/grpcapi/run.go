package grpcapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"

	"google.golang.org/grpc"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// Run serves the API on l until ctx is done, then stops gracefully. Like
// the HTTP examples it starts the development issuer when cfg names no
// issuer, but prints instructions for a gRPC client.
func Run(ctx context.Context, l net.Listener, cfg countryapi.Config, logger *slog.Logger, out io.Writer) error {
	defer l.Close()
	if cfg.Dev() {
		dev, err := countryapi.StartDevIssuer(cfg.Audiences[0], false)
		if err != nil {
			return err
		}
		defer dev.Close()
		cfg.IssuerURL, cfg.IssuerURLs = dev.URL(), []string{dev.URL()}
		announce(dev, logger, out, Target(l.Addr()))
	}
	v, stop, err := countryapi.Setup(ctx, cfg, logger, out, "")
	if err != nil {
		return err
	}
	defer stop()
	srv := newServer(v)
	serve := func(l net.Listener) error {
		// A stop that comes before Serve has begun is a clean stop too.
		if err := srv.Serve(l); !errors.Is(err, grpc.ErrServerStopped) {
			return err
		}
		return nil
	}
	return countryapi.Serve(ctx, l, logger, serve, func(ctx context.Context) error {
		stopped := make(chan struct{})
		go func() {
			srv.GracefulStop()
			close(stopped)
		}()
		select {
		case <-stopped:
			return nil
		case <-ctx.Done():
			srv.Stop()
			return ctx.Err()
		}
	})
}

// Target is the address a local client dials to reach a listener: a
// wildcard address such as ":8091" is reached as localhost.
func Target(addr net.Addr) string {
	return strings.TrimPrefix(countryapi.BaseURL(addr), "http://")
}

// announce warns that the development issuer runs, and prints its client's
// credentials with commands, ready to paste, that call the API at target.
func announce(dev *countryapi.DevIssuer, logger *slog.Logger, w io.Writer, target string) {
	logger.Warn("no ISSUER_URL: started the embedded development issuer; FOR DEVELOPMENT ONLY, never in production (set ISSUER_URL and AUDIENCE to use a real issuer)",
		"issuer", dev.URL(), "client_id", dev.ClientID, "audience", dev.Audience)
	fmt.Fprintf(w, `
Development issuer (for development only, never in production)
  issuer:         %[1]s
  token endpoint: %[2]s
  client_id:      %[3]s
  client_secret:  %[4]s
  audience:       %[5]s
  scopes:         %[6]s %[7]s

Call the API with the client example:

  ISSUER_URL=%[1]s CLIENT_ID=%[3]s CLIENT_SECRET=%[4]s SCOPES=%[6]s GRPC_ADDR=%[8]s go run ./examples/client

Or get a token (client_secret_basic) and call the API with grpcurl:

  TOKEN=$(curl -s -u '%[3]s:%[4]s' -d grant_type=client_credentials -d scope=%[6]s %[2]s | sed -E 's/.*"access_token":"([^"]*)".*/\1/')
  grpcurl -plaintext -H "authorization: Bearer $TOKEN" -d '{"code":"AUS"}' %[8]s country.v1.CountryService/GetCountry

`, dev.URL(), dev.TokenURL(), dev.ClientID, dev.ClientSecret, dev.Audience, countryapi.ScopeCountryRead, countryapi.ScopeCustomerRead, target)
}
