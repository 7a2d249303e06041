package connectapi

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// Run serves the API on l until ctx is done, then shuts down gracefully.
// Like the HTTP examples it starts the development issuer when cfg names no
// issuer, but prints instructions for Connect and gRPC clients.
func Run(ctx context.Context, l net.Listener, cfg countryapi.Config, logger *slog.Logger, out io.Writer) error {
	defer l.Close()
	apiURL := countryapi.BaseURL(l.Addr())
	g, stop, err := countryapi.Setup(ctx, cfg, logger, apiURL, func(d *countryapi.DevIssuer) { d.Announce(logger, out, howTo(d, apiURL)) })
	if err != nil {
		return err
	}
	defer stop()
	// HTTP/1.1 for Connect and gRPC-Web clients, and HTTP/2 without TLS
	// (prior knowledge) for gRPC clients, which need HTTP/2.
	protocols := new(http.Protocols)
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	srv := &http.Server{
		Handler:           newHandler(g, logger),
		Protocols:         protocols,
		ReadHeaderTimeout: countryapi.ReadHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return countryapi.Serve(ctx, l, logger, srv.Serve, srv.Shutdown)
}

// howTo is how to call the API at apiURL with the development issuer's
// client: the client example over Connect and over gRPC, and curl, since
// the Connect protocol is JSON over HTTP.
func howTo(dev *countryapi.DevIssuer, apiURL string) string {
	return fmt.Sprintf(`Call the API with the client example, over Connect (CONNECT_PROTOCOL=grpcweb for gRPC-Web):

  %s

or as a gRPC client:

  %s

Or get a token (client_secret_basic) and call the API with curl:

  %s
  curl -i -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" -d '{"code":"AUS"}' %s

`, dev.ClientCommand("CONNECT_URL="+apiURL), dev.ClientCommand("GRPC_ADDR="+strings.TrimPrefix(apiURL, "http://")),
		dev.TokenCommand(), apiURL+"/country.v1.CountryService/GetCountry")
}
