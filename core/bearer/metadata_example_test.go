package bearer_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// The API's RFC 9728 metadata is built from its resource identifier and
// its issuer's configuration, before the verifier, which then names it in
// every challenge.
func ExampleNewResourceMetadata() {
	cfg := bearer.Config{
		Issuer:    "https://sso.example.com/realms/services",
		Audiences: []string{"country-api"},
	}
	md, err := bearer.NewResourceMetadata("https://api.example.com/country", cfg)
	if err != nil {
		log.Fatal(err)
	}
	md.ScopesSupported = bearer.ScopesOf(bearer.RequireScope("country.read"))
	cfg.ResourceMetadata = md.URL()
	v, err := bearer.New(cfg)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle(md.Path(), md) // or an adapter's Metadata handler

	_, err = v.Check(context.Background(), bearer.HTTPRequest(httptest.NewRequest(http.MethodGet, "/country/code/AUS", nil)))
	fmt.Println(v.Response(err).Header.Get("WWW-Authenticate"))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, md.Path(), nil))
	fmt.Println(md.Path())
	fmt.Println(w.Body.String())
	// Output:
	// Bearer realm="country-api", resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/country"
	// /.well-known/oauth-protected-resource/country
	// {"resource":"https://api.example.com/country","authorization_servers":["https://sso.example.com/realms/services"],"scopes_supported":["country.read"],"bearer_methods_supported":["header"]}
}
