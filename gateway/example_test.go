package gateway_test

import (
	"fmt"
	"os"

	"github.com/bouncer-go/bouncer/gateway"
)

// A configuration is checked at start, every problem at its line, the way
// `bouncer serve --check` prints them.
func ExampleParse() {
	file := []byte(`
issuers:
  - issuer-uri: ${ISSUER_URI}
    audience: [orders-api]
routes:
  - path: /orders/{id}
    methods: [get]
`)
	_, err := gateway.Parse("gateway.yaml", file, func(name string) (string, bool) {
		return "https://sso.example.com/realms/services", name == "ISSUER_URI"
	})
	fmt.Println(err)
	// Output:
	// gateway.yaml:4:5: issuers[0].audience: unknown setting "audience" (did you mean "audiences"?)
	// gateway.yaml:3:5: issuers[0]: audiences is required: name this API's audience (or set insecure-accept-any-audience, which accepts tokens meant for any API)
	// gateway.yaml:7:15: routes[0].methods[0]: "get" is not a method name in capitals
}

// A Server runs a file until its context ends: forward-auth for Traefik,
// Caddy and nginx, Envoy's ext_authz, health, readiness and metrics, with
// reloads on SIGHUP and when the file changes.
func ExampleNewServer() {
	s, err := gateway.NewServer("/etc/bouncer/gateway.yaml", gateway.ServerOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // file:line: setting: what is wrong
		return
	}
	_ = s // s.Run(ctx), with ctx ended by SIGTERM
}
