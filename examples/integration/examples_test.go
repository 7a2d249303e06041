package integration

import (
	"net"
	"os"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/bouncer-go/bouncer/examples/echo/echoapi"
	"github.com/bouncer-go/bouncer/examples/echo5/echo5api"
	"github.com/bouncer-go/bouncer/examples/fiber/fiberapi"
	"github.com/bouncer-go/bouncer/examples/fiber3/fiber3api"
	"github.com/bouncer-go/bouncer/examples/gin/ginapi"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
	"github.com/bouncer-go/bouncer/examples/nethttp/nethttpapi"
)

// example is one example server, started as its command starts it.
type example struct {
	name string
	run  countryapi.RunFunc
}

// examples are the servers every test runs on. The first, net/http, is
// the reference the others are compared with.
var examples = []example{
	{"nethttp", nethttpapi.Run},
	{"gin", ginapi.Run},
	{"echo", echoapi.Run},
	{"fiber", fiberapi.Run},
	{"echo5", echo5api.Run},
	{"fiber3", fiber3api.Run},
}

func TestMain(m *testing.M) {
	// Gin's debug mode, its default outside its own tests, prints every
	// route the tests register.
	gin.SetMode(gin.TestMode)
	code := m.Run()
	stopLiveIssuers()
	os.Exit(code)
}

// startRun runs ex as its command does, on a free loopback port, until
// the test ends (see exampletest.StartOn). It returns the API's base URL
// and what run printed.
func startRun(t *testing.T, ex example, cfg countryapi.Config) (string, *exampletest.Output) {
	t.Helper()
	addr, out := exampletest.Start(t, ex.run, cfg)
	return countryapi.BaseURL(addr), out
}

// startAll starts every example with cfg and returns their base URLs, in
// the order of examples.
func startAll(t *testing.T, cfg countryapi.Config) []string {
	t.Helper()
	bases := make([]string, len(examples))
	for i, ex := range examples {
		bases[i], _ = startRun(t, ex, cfg)
	}
	return bases
}

// wantAlike sends GET path with auth (see getAuth) to every example and
// checks that they answer as net/http does.
func wantAlike(t *testing.T, bases []string, path, auth string) {
	t.Helper()
	ref := getAuth(t, bases[0]+path, auth)
	for i, base := range bases[1:] {
		t.Run(examples[i+1].name, func(t *testing.T) {
			getAuth(t, base+path, auth).wantSame(t, ref)
		})
	}
}

// listen opens a listener on a free loopback port; run closes it, and so
// does the test's end if run was never called.
func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}
