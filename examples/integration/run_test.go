package integration

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// TestRunRefusesBadIssuer checks that an example does not start with an
// issuer URL it cannot use.
func TestRunRefusesBadIssuer(t *testing.T) {
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			l := listen(t)
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			err := ex.run(ctx, l, countryapi.Config{IssuerURL: "not a URL", Audiences: []string{"country-api"}}, quietLogger(), io.Discard)
			if err == nil || !strings.Contains(err.Error(), "not an absolute URL") {
				t.Fatalf("run = %v, want an error about the issuer URL", err)
			}
		})
	}
}
