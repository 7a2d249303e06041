package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
)

// TestRunDevIssuer runs each example with no ISSUER_URL, as `go run
// ./examples/gin` and the others do, and follows the printed
// instructions: the printed client credentials get a token at the printed
// token endpoint, and the token opens the country lookup.
func TestRunDevIssuer(t *testing.T) {
	cfg := configFromEnv(t, nil)
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			base, out := startRun(t, ex, cfg)

			// The listener is open before run starts, so this waits for
			// the server rather than racing it; run prints before it
			// serves.
			get(t, base+"/healthz", "").wantStatus(t, http.StatusOK)
			printed := out.String()
			for _, want := range []string{
				"for development only",
				"client_id:      country-client",
				"curl -i -H \"Authorization: Bearer $TOKEN\" " + base + "/country/code/AUS",
			} {
				if !strings.Contains(printed, want) {
					t.Errorf("output lacks %q:\n%s", want, printed)
				}
			}
			secret := exampletest.Field(t, printed, "client_secret")
			tokenURL := exampletest.Field(t, printed, "token endpoint")

			r := get(t, base+"/country/code/AUS", fetchToken(t, tokenURL, "country-client", secret, "country.read"))
			r.wantStatus(t, http.StatusOK)
			r.wantBody(t, ausJSON)
		})
	}
}
