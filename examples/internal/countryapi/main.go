package countryapi

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
)

// RunFunc serves one framework's version of the API on l until ctx is done.
type RunFunc func(ctx context.Context, l net.Listener, cfg Config, logger *slog.Logger, out io.Writer) error

// Main is every example's main: a logger at LOG_LEVEL, configuration
// from the environment, a listener on ADDR, and run until SIGINT or
// SIGTERM.
func Main(run RunFunc) {
	level, err := LogLevel(os.Getenv)
	if err != nil {
		slog.Error("country API not started", "err", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := start(ctx, run, logger); err != nil {
		logger.Error("country API stopped", "err", err)
		stop()
		os.Exit(1)
	}
}

func start(ctx context.Context, run RunFunc, logger *slog.Logger) error {
	cfg, err := ConfigFromEnv(os.Getenv)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	return run(ctx, l, cfg, logger, os.Stdout)
}
