package bench

import (
	"context"
	"net"
	"net/http"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"github.com/gin-gonic/gin"
	fiber2 "github.com/gofiber/fiber/v2"
	fiber3 "github.com/gofiber/fiber/v3"
	echo4 "github.com/labstack/echo/v4"
	echo5 "github.com/labstack/echo/v5"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/bouncer-go/bouncer/adapters/bearerconnect"
	"github.com/bouncer-go/bouncer/adapters/bearerecho"
	"github.com/bouncer-go/bouncer/adapters/bearerecho5"
	"github.com/bouncer-go/bouncer/adapters/bearerfiber"
	"github.com/bouncer-go/bouncer/adapters/bearerfiber3"
	"github.com/bouncer-go/bouncer/adapters/bearergin"
	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
)

// The routes every server under test serves: the same small JSON answer,
// once open and once behind RequireScope. The RPC front doors serve the
// same answer from two methods, one skipped by the interceptor.
const (
	pathOpen      = "/open"
	pathProtected = "/protected"
	scope         = "country.read"

	rpcService   = "bench.Country"
	rpcOpen      = "/" + rpcService + "/Open"
	rpcProtected = "/" + rpcService + "/Protected"
)

var answer = []byte(`{"code":"AUS","name":"AUSTRALIA"}`)

// The kinds of front door, by how the load generator talks to them.
const (
	kindHTTP    = iota // GET pathOpen and pathProtected over HTTP/1.1
	kindConnect        // Connect unary POSTs of rpcOpen and rpcProtected over HTTP/1.1
	kindGRPC           // gRPC unary calls of rpcOpen and rpcProtected over HTTP/2
)

// frontDoor starts a server on l, guarded by c, and returns a function
// that stops it.
type frontDoor struct {
	name  string
	kind  int
	serve func(l net.Listener, c bearer.Checker) (stop func())
}

// frontDoors are every framework and RPC system bouncer has an adapter
// for.
var frontDoors = []frontDoor{
	{"nethttp", kindHTTP, serveNetHTTP},
	{"gin", kindHTTP, serveGin},
	{"echo", kindHTTP, serveEcho},
	{"echo5", kindHTTP, serveEcho5},
	{"fiber", kindHTTP, serveFiber},
	{"fiber3", kindHTTP, serveFiber3},
	{"grpc", kindGRPC, serveGRPC},
	{"connect", kindConnect, serveConnect},
}

func findFrontDoor(name string) (frontDoor, bool) {
	for _, f := range frontDoors {
		if f.name == name {
			return f, true
		}
	}
	return frontDoor{}, false
}

func httpServer(l net.Listener, h http.Handler) func() {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return func() { _ = srv.Shutdown(context.Background()) }
}

func netHTTPHandler(c bearer.Checker) http.Handler {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	})
	mux := http.NewServeMux()
	mux.Handle("GET "+pathOpen, ok)
	mux.Handle("GET "+pathProtected, bearerhttp.New(c).RequireScope(scope)(ok))
	return mux
}

func ginHandler(c bearer.Checker) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	ok := func(c *gin.Context) { c.Data(http.StatusOK, "application/json", answer) }
	r.GET(pathOpen, ok)
	r.GET(pathProtected, bearergin.New(c).RequireScope(scope), ok)
	return r
}

func echoHandler(c bearer.Checker) http.Handler {
	e := echo4.New()
	ok := func(c echo4.Context) error { return c.Blob(http.StatusOK, "application/json", answer) }
	e.GET(pathOpen, ok)
	e.GET(pathProtected, ok, bearerecho.New(c).RequireScope(scope))
	return e
}

func echo5Handler(c bearer.Checker) http.Handler {
	e := echo5.New()
	ok := func(c *echo5.Context) error { return c.Blob(http.StatusOK, "application/json", answer) }
	e.GET(pathOpen, ok)
	e.GET(pathProtected, ok, bearerecho5.New(c).RequireScope(scope))
	return e
}

func fiberApp(c bearer.Checker) *fiber2.App {
	app := fiber2.New(fiber2.Config{DisableStartupMessage: true, ReadBufferSize: 32 << 10})
	ok := func(c *fiber2.Ctx) error {
		c.Set("Content-Type", "application/json")
		return c.Send(answer)
	}
	app.Get(pathOpen, ok)
	app.Get(pathProtected, bearerfiber.New(c).RequireScope(scope), ok)
	return app
}

func fiber3App(c bearer.Checker) *fiber3.App {
	app := fiber3.New(fiber3.Config{ReadBufferSize: 32 << 10})
	ok := func(c fiber3.Ctx) error {
		c.Set("Content-Type", "application/json")
		return c.Send(answer)
	}
	app.Get(pathOpen, ok)
	app.Get(pathProtected, bearerfiber3.New(c).RequireScope(scope), ok)
	return app
}

func serveNetHTTP(l net.Listener, c bearer.Checker) func() { return httpServer(l, netHTTPHandler(c)) }
func serveGin(l net.Listener, c bearer.Checker) func()     { return httpServer(l, ginHandler(c)) }
func serveEcho(l net.Listener, c bearer.Checker) func()    { return httpServer(l, echoHandler(c)) }
func serveEcho5(l net.Listener, c bearer.Checker) func()   { return httpServer(l, echo5Handler(c)) }

func serveFiber(l net.Listener, c bearer.Checker) func() {
	app := fiberApp(c)
	go func() { _ = app.Listener(l) }()
	return func() { _ = app.Shutdown() }
}

func serveFiber3(l net.Listener, c bearer.Checker) func() {
	app := fiber3App(c)
	go func() { _ = app.Listener(l, fiber3.ListenConfig{DisableStartupMessage: true}) }()
	return func() { _ = app.Shutdown() }
}

// rpcAnswer is the answer of both RPC methods; rpcRequest what the load
// generator asks.
var (
	rpcAnswer  = wrapperspb.Bytes(answer)
	rpcRequest = must(proto.Marshal(wrapperspb.String("AUS")))
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// serveGRPC serves the two methods without generated code: a service
// description whose handlers decode the request, then run the
// interceptor chain around the same answer.
func serveGRPC(l net.Listener, c bearer.Checker) func() {
	auth := bearergrpc.New(c, bearergrpc.WithDefaultPolicies(bearer.RequireScope(scope)), bearergrpc.WithSkip(rpcOpen))
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(auth.Unary))
	handler := func(method string) grpc.MethodHandler {
		ok := func(context.Context, any) (any, error) { return rpcAnswer, nil }
		return func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(wrapperspb.StringValue)
			if err := dec(in); err != nil {
				return nil, err
			}
			if interceptor == nil {
				return ok(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: method}, ok)
		}
	}
	srv.RegisterService(&grpc.ServiceDesc{
		ServiceName: rpcService,
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{
			{MethodName: "Open", Handler: handler(rpcOpen)},
			{MethodName: "Protected", Handler: handler(rpcProtected)},
		},
	}, struct{}{})
	go func() { _ = srv.Serve(l) }()
	return srv.Stop
}

// serveConnect serves the two methods over Connect's HTTP handler.
func serveConnect(l net.Listener, c bearer.Checker) func() {
	auth := bearerconnect.New(c, bearerconnect.WithDefaultPolicies(bearer.RequireScope(scope)), bearerconnect.WithSkip(rpcOpen))
	server := connect.NewServer(auth.Intercept)
	for _, p := range []string{rpcOpen, rpcProtected} {
		spec := connect.Spec{StreamType: connect.StreamTypeUnary, Procedure: p}
		server.Register(connect.Method{Spec: spec, Handler: func(_ context.Context, _ connect.Spec, stream connect.ServerStream) error {
			if err := stream.Receive(new(wrapperspb.StringValue)); err != nil {
				return err
			}
			return stream.Send(rpcAnswer)
		}})
	}
	mux := http.NewServeMux()
	connecthttp.Mount(mux, server)
	return httpServer(l, mux)
}
