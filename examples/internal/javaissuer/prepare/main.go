// Command prepare fetches and builds, ahead of the tests, what the tests
// against Keycloak and Spring Authorization Server run: Keycloak's
// distribution through Maven (started once, for its build step), and the
// Spring Authorization Server application in testdata, built with Maven.
// Everything goes to the cache (see javaissuer.CacheDir); a second run
// finds it there and does nothing. `make deps` runs it.
//
// Without Java or Maven it fails, naming what to install, unless
// BOUNCER_SKIP_JAVA=1.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/bouncer-go/bouncer/examples/internal/javaissuer"
	"github.com/bouncer-go/bouncer/examples/internal/keycloak"
	"github.com/bouncer-go/bouncer/examples/internal/springas"
)

func main() {
	if os.Getenv(javaissuer.SkipEnv) == "1" {
		fmt.Printf("%s=1: not preparing Keycloak and Spring Authorization Server\n", javaissuer.SkipEnv)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	began := time.Now()
	if err := keycloak.Warm(ctx, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "prepare: %v\n", err)
		os.Exit(1)
	}
	app, err := springas.Build(ctx, os.Stdout)
	if err != nil {
		fmt.Fprintf(os.Stderr, "prepare: %v\n", err)
		os.Exit(1)
	}
	if app.Built {
		fmt.Printf("spring authorization server: built in %v\n", app.Took.Round(time.Second))
	}
	fmt.Printf("Keycloak %s and Spring Authorization Server (Spring Boot %s) ready in %v\n", keycloak.Version, springas.BootVersion, time.Since(began).Round(time.Second))
}
