// Command countrygate is bouncer's gateway (what `bouncer serve` runs)
// inside a program of its own: it answers the forward-auth checks of
// Traefik, Caddy and nginx, and Envoy's ext_authz, with the configuration
// file at GATEWAY_CONFIG, reloading it on SIGHUP and when it changes,
// until SIGINT or SIGTERM.
package main

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/bouncer-go/bouncer/gateway"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	s, err := gateway.NewServer(os.Getenv("GATEWAY_CONFIG"), gateway.ServerOptions{})
	if err != nil {
		log.Fatal(err) // file:line: setting: what is wrong
	}
	if err := s.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
