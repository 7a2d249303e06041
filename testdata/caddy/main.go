// Command caddy is Caddy with its standard modules, built from the module
// proxy for the gateway's live tests: forward_auth in front of an upstream,
// with bouncer serve deciding. This module is not part of go.work; the tests
// build it with GOWORK=off into a cache outside the repository.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"
)

func main() { caddycmd.Main() }
