package bench

import (
	"context"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	fiber2 "github.com/gofiber/fiber/v2"
	fiber3 "github.com/gofiber/fiber/v3"
	echo4 "github.com/labstack/echo/v4"
	echo5 "github.com/labstack/echo/v5"

	"github.com/bouncer-go/bouncer/adapters/bearerecho"
	"github.com/bouncer-go/bouncer/adapters/bearerecho5"
	"github.com/bouncer-go/bouncer/adapters/bearerfiber"
	"github.com/bouncer-go/bouncer/adapters/bearerfiber3"
	"github.com/bouncer-go/bouncer/adapters/bearergin"
	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
)

// The routes every server under test serves: the same small JSON answer,
// once open and once behind RequireScope.
const (
	pathOpen      = "/open"
	pathProtected = "/protected"
	scope         = "country.read"
)

var answer = []byte(`{"code":"AUS","name":"AUSTRALIA"}`)

// frameworks starts each framework's server on l, guarded by c, and
// returns a function that stops it.
var frameworks = []struct {
	name  string
	serve func(l net.Listener, c bearer.Checker) (stop func())
}{
	{"nethttp", serveNetHTTP},
	{"gin", serveGin},
	{"echo", serveEcho},
	{"echo5", serveEcho5},
	{"fiber", serveFiber},
	{"fiber3", serveFiber3},
}

func httpServer(l net.Listener, h http.Handler) func() {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	return func() { _ = srv.Shutdown(context.Background()) }
}

func serveNetHTTP(l net.Listener, c bearer.Checker) func() {
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	})
	mux := http.NewServeMux()
	mux.Handle("GET "+pathOpen, ok)
	mux.Handle("GET "+pathProtected, bearerhttp.New(c).RequireScope(scope)(ok))
	return httpServer(l, mux)
}

func serveGin(l net.Listener, c bearer.Checker) func() {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	ok := func(c *gin.Context) { c.Data(http.StatusOK, "application/json", answer) }
	r.GET(pathOpen, ok)
	r.GET(pathProtected, bearergin.New(c).RequireScope(scope), ok)
	return httpServer(l, r)
}

func serveEcho(l net.Listener, c bearer.Checker) func() {
	e := echo4.New()
	ok := func(c echo4.Context) error { return c.Blob(http.StatusOK, "application/json", answer) }
	e.GET(pathOpen, ok)
	e.GET(pathProtected, ok, bearerecho.New(c).RequireScope(scope))
	return httpServer(l, e)
}

func serveEcho5(l net.Listener, c bearer.Checker) func() {
	e := echo5.New()
	ok := func(c *echo5.Context) error { return c.Blob(http.StatusOK, "application/json", answer) }
	e.GET(pathOpen, ok)
	e.GET(pathProtected, ok, bearerecho5.New(c).RequireScope(scope))
	return httpServer(l, e)
}

func serveFiber(l net.Listener, c bearer.Checker) func() {
	app := fiber2.New(fiber2.Config{DisableStartupMessage: true, ReadBufferSize: 32 << 10})
	ok := func(c *fiber2.Ctx) error {
		c.Set("Content-Type", "application/json")
		return c.Send(answer)
	}
	app.Get(pathOpen, ok)
	app.Get(pathProtected, bearerfiber.New(c).RequireScope(scope), ok)
	go func() { _ = app.Listener(l) }()
	return func() { _ = app.Shutdown() }
}

func serveFiber3(l net.Listener, c bearer.Checker) func() {
	app := fiber3.New(fiber3.Config{ReadBufferSize: 32 << 10})
	ok := func(c fiber3.Ctx) error {
		c.Set("Content-Type", "application/json")
		return c.Send(answer)
	}
	app.Get(pathOpen, ok)
	app.Get(pathProtected, bearerfiber3.New(c).RequireScope(scope), ok)
	go func() { _ = app.Listener(l, fiber3.ListenConfig{DisableStartupMessage: true}) }()
	return func() { _ = app.Shutdown() }
}
