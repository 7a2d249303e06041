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
	target := Target(l.Addr())
	v, stop, err := countryapi.Setup(ctx, cfg, logger, "", func(d *countryapi.DevIssuer) { d.Announce(logger, out, howTo(d, target)) })
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
	logger.Info("country API listening (gRPC)", "addr", target)
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

// howTo is how to call the API at target with the development issuer's
// client: the client example, which gets its token and sends it through
// bearergrpc.TokenSource.
func howTo(dev *countryapi.DevIssuer, target string) string {
	return fmt.Sprintf(`Call the API with the client example:

  %s

`, dev.ClientCommand("GRPC_ADDR="+target))
}
