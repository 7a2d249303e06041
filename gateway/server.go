package gateway

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Server runs the gateway from its configuration file: the HTTP listener
// (forward-auth, Envoy's HTTP ext_authz, health, readiness, metrics,
// resource metadata) and Envoy's ext_authz gRPC listener, answering every
// request with the current Gateway. A reload (SIGHUP, or the file's
// content changing) builds a new Gateway beside the running one and swaps
// it in atomically: requests in flight finish on the old one, which is
// closed once none uses it, and none is dropped. A file that does not
// load, or whose issuers cannot be reached while the running ones can,
// keeps the running Gateway and is logged with its reasons.
type Server struct {
	path     string
	opts     ServerOptions
	cfg      *Config // the configuration the listeners were started with
	cur      atomic.Pointer[Gateway]
	log      *slog.Logger
	level    *slog.LevelVar
	metrics  *metrics
	draining atomic.Bool

	reloadMu  sync.Mutex
	attempted [sha256.Size]byte // the content last loaded, or tried
}

// ServerOptions are a Server's settings beyond the file.
type ServerOptions struct {
	// LogOutput receives the structured log. Nil means standard error.
	LogOutput io.Writer
	// Lookup reads the environment for ${NAME} in the file. Nil means
	// os.LookupEnv.
	Lookup func(string) (string, bool)
	// ReadyTimeout bounds the wait for a new configuration's issuer keys
	// at a reload. Zero means 10 seconds.
	ReadyTimeout time.Duration
}

// NewServer loads the file at path and builds its Gateway. Nothing is
// fetched and nothing listens until Serve or Run.
func NewServer(path string, opts ServerOptions) (*Server, error) {
	if opts.Lookup == nil {
		opts.Lookup = os.LookupEnv
	}
	if opts.LogOutput == nil {
		opts.LogOutput = os.Stderr
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 10 * time.Second
	}
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(path, data, opts.Lookup)
	if err != nil {
		return nil, err
	}
	s := &Server{path: path, opts: opts, cfg: cfg, level: new(slog.LevelVar), attempted: sha256.Sum256(data)}
	s.level.Set(logLevel(cfg.Log.Level))
	hopts := &slog.HandlerOptions{Level: s.level}
	if cfg.Log.Format == "text" {
		s.log = slog.New(slog.NewTextHandler(opts.LogOutput, hopts))
	} else {
		s.log = slog.New(slog.NewJSONHandler(opts.LogOutput, hopts))
	}
	if enabled(cfg.Telemetry.Metrics, true) {
		if s.metrics, err = newMetrics(); err != nil {
			return nil, err
		}
	}
	g, err := New(cfg, s.gatewayOptions())
	if err != nil {
		return nil, err
	}
	s.cur.Store(g)
	return s, nil
}

func (s *Server) gatewayOptions() Options {
	o := Options{Logger: s.log}
	if s.metrics != nil {
		o.Observer = s.metrics.observer
		o.checks = s.metrics.checks
	}
	return o
}

func logLevel(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// acquire is the current Gateway, held until done is called: a Gateway
// retired meanwhile is closed only after.
func (s *Server) acquire() (*Gateway, func()) {
	for {
		g := s.cur.Load()
		g.refs.Add(1)
		if s.cur.Load() == g {
			return g, g.release
		}
		g.release()
	}
}

// Reload reads the file again and, if it loads and its issuers can be
// reached (or the running ones cannot either), swaps it in. On failure
// the running Gateway stays and the error says why. Settings of listen
// and log.format apply at the next start only.
func (s *Server) Reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	data, err := readFile(s.path)
	if err != nil {
		return s.reloadFailed(err)
	}
	s.attempted = sha256.Sum256(data)
	cfg, err := Parse(s.path, data, s.opts.Lookup)
	if err != nil {
		return s.reloadFailed(err)
	}
	if cfg.Listen != s.cfg.Listen {
		s.log.Warn("gateway: listen settings changed: they apply at the next start")
	}
	g, err := New(cfg, s.gatewayOptions())
	if err != nil {
		return s.reloadFailed(err)
	}
	rctx, cancel := context.WithTimeout(ctx, s.opts.ReadyTimeout)
	defer cancel()
	if err := g.Ready(rctx); err != nil {
		old, done := s.acquire()
		oldErr := old.Ready(rctx)
		done()
		if oldErr == nil {
			g.Close()
			return s.reloadFailed(fmt.Errorf("the new configuration's issuers cannot be reached while the running ones can: %w", err))
		}
		s.log.Warn("gateway: the new configuration's issuers cannot be reached yet; the running ones cannot either, so the new one is used", "err", err.Error())
	}
	s.level.Set(logLevel(cfg.Log.Level))
	old := s.cur.Swap(g)
	old.retire()
	s.log.Info("gateway: configuration reloaded", "file", s.path, "routes", len(cfg.Routes), "issuers", len(cfg.Issuers))
	return nil
}

func (s *Server) reloadFailed(err error) error {
	s.log.Error("gateway: the configuration was not reloaded; the running one stays", "file", s.path, "err", err.Error())
	return err
}

// watch reloads when the file's content changes, checking every interval:
// content rather than modification times, so that Kubernetes' ConfigMap
// updates (a symbolic link swapped) are seen too.
func (s *Server) watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, err := readFile(s.path)
		if err != nil {
			continue // a file being replaced; the next tick sees the new one
		}
		s.reloadMu.Lock()
		same := sha256.Sum256(data) == s.attempted
		s.reloadMu.Unlock()
		if !same {
			_ = s.Reload(ctx)
		}
	}
}

// Handler is the HTTP listener's handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	l := s.cfg.Listen
	fa := orDefault(l.ForwardAuthPath, "/auth")
	mux.HandleFunc(fa, func(w http.ResponseWriter, r *http.Request) {
		g, done := s.acquire()
		defer done()
		g.forwardAuth(w, r)
	})
	mux.HandleFunc(fa+"/nginx", func(w http.ResponseWriter, r *http.Request) {
		g, done := s.acquire()
		defer done()
		g.nginxAuth(w, r)
	})
	prefix := orDefault(l.EnvoyHTTPPrefix, "/envoy")
	mux.HandleFunc(prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		g, done := s.acquire()
		defer done()
		g.envoyHTTP(prefix)(w, r)
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("/readyz", s.ready)
	if s.metrics != nil {
		mux.Handle(orDefault(s.cfg.Telemetry.MetricsPath, "/metrics"), s.metrics.handler)
	}
	if g, done := s.acquire(); g.metadata != nil {
		mux.HandleFunc(g.metadata.Path(), func(w http.ResponseWriter, r *http.Request) {
			g, done := s.acquire()
			defer done()
			if g.metadata == nil {
				http.NotFound(w, r)
				return
			}
			g.metadata.ServeHTTP(w, r)
		})
		done()
	} else {
		done()
	}
	return mux
}

// ready answers readiness probes: 200 once every issuer's keys are held
// (fetching them now if need be), 503 otherwise and while stopping.
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.draining.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "stopping\n")
		return
	}
	g, done := s.acquire()
	defer done()
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := g.Ready(ctx); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = fmt.Fprintf(w, "not ready: %v\n", err)
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// GRPCServer is a gRPC server offering Envoy's Authorization service and
// the standard health service.
func (s *Server) GRPCServer() *grpc.Server {
	gs := grpc.NewServer()
	authv3.RegisterAuthorizationServer(gs, authorizationServer{current: s.acquire})
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(authv3.Authorization_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)
	return gs
}

// Run listens on the configured addresses and serves until ctx ends,
// reloading on SIGHUP and (unless reload.watch is false) when the file
// changes; then it stops gracefully.
func (s *Server) Run(ctx context.Context) error {
	httpLn, err := net.Listen("tcp", orDefault(s.cfg.Listen.HTTP, "127.0.0.1:9191"))
	if err != nil {
		return err
	}
	var grpcLn net.Listener
	if s.cfg.Listen.GRPC != "" {
		if grpcLn, err = net.Listen("tcp", s.cfg.Listen.GRPC); err != nil {
			httpLn.Close()
			return err
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				s.log.Info("gateway: SIGHUP: reloading", "file", s.path)
				_ = s.Reload(ctx)
			}
		}
	}()
	return s.Serve(ctx, httpLn, grpcLn)
}

// Serve serves on the listeners given (grpcLn may be nil) until ctx ends,
// watching the file unless reload.watch is false, then stops gracefully:
// readiness turns 503, new connections are refused, and requests in flight
// get listen.shutdown-timeout to finish.
func (s *Server) Serve(ctx context.Context, httpLn, grpcLn net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 256 << 10,
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	var gs *grpc.Server
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(httpLn) }()
	if grpcLn != nil {
		gs = s.GRPCServer()
		go func() { errc <- gs.Serve(grpcLn) }()
	}
	attrs := []any{"http", httpLn.Addr().String()}
	if grpcLn != nil {
		attrs = append(attrs, "grpc", grpcLn.Addr().String())
	}
	s.log.Info("gateway: serving", attrs...)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	if enabled(s.cfg.Reload.Watch, true) {
		go s.watch(wctx, orDefault(s.cfg.Reload.Interval, 2*time.Second))
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.draining.Store(true)
	stopWatch()
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.shutdownTimeout())
	defer cancel()
	shutErr := hs.Shutdown(sctx)
	if gs != nil {
		stopped := make(chan struct{})
		go func() { gs.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-sctx.Done():
			gs.Stop()
		}
	}
	s.cur.Load().Close()
	if s.metrics != nil {
		_ = s.metrics.shutdown(context.Background())
	}
	s.log.Info("gateway: stopped")
	if err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return shutErr
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// CheckFile loads the file at path and builds its Gateway without
// serving, reporting every problem with its line: what `bouncer serve
// --check` runs.
func CheckFile(path string, lookup func(string) (string, bool)) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if lookup == nil {
		lookup = os.LookupEnv
	}
	cfg, err := Parse(path, data, lookup)
	if err != nil {
		return nil, err
	}
	g, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	g.Close()
	return cfg, nil
}
