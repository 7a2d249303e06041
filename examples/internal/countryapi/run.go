package countryapi

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
)

// Server is one framework's way to serve on a listener and to stop.
type Server struct {
	Serve    func(net.Listener) error
	Shutdown func(context.Context) error
}

// Run serves the API on l until ctx is done, then shuts down gracefully:
// it sets up the verifier (starting the development issuer when no issuer
// is configured, with instructions to out), asks build for the framework's
// server around it, runs that server through Serve, and closes the
// verifier once the server has stopped. It takes the
// listener, rather than an address, so that tests can serve on a free port.
func Run(ctx context.Context, l net.Listener, cfg Config, logger *slog.Logger, out io.Writer, build func(*Guard) Server) error {
	defer l.Close()
	apiURL := BaseURL(l.Addr())
	v, stop, err := Setup(ctx, cfg, logger, apiURL, func(d *DevIssuer) { d.Announce(logger, out, d.httpHowTo(apiURL)) })
	if err != nil {
		return err
	}
	defer stop()
	srv := build(v)
	logger.Info("country API listening", "url", apiURL)
	return Serve(ctx, l, logger, srv.Serve, srv.Shutdown)
}

// HTTPServer serves h with net/http, for frameworks whose router is an
// http.Handler. The onShutdown functions run when shutdown begins, to end
// what never goes idle by itself, such as an MCP server's event streams.
func HTTPServer(h http.Handler, logger *slog.Logger, onShutdown ...func()) Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	for _, f := range onShutdown {
		srv.RegisterOnShutdown(f)
	}
	return Server{Serve: srv.Serve, Shutdown: srv.Shutdown}
}
