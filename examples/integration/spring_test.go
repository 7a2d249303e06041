package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/examples/internal/javaissuer"
	"github.com/bouncer-go/bouncer/examples/internal/springas"
)

// springIssuer is the test binary's Spring Authorization Server.
type springIssuer struct {
	app    *springas.App
	client *http.Client

	mu  sync.Mutex
	srv *springas.Server
}

var liveSpring = shared[*springIssuer]{start: startSpring}

func sharedSpring(t *testing.T) *springIssuer {
	t.Helper()
	if javaissuer.Skipped(t) {
		return nil
	}
	s := liveSpring.get(t)
	t.Logf("Spring Authorization Server (Spring Boot %s) on %s", springas.BootVersion, s.app.JDK)
	return s
}

func startSpring() (*springIssuer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var log bytes.Buffer
	app, err := springas.Build(ctx, &log)
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, log.String())
	}
	srv, err := app.Start(0)
	if err != nil {
		return nil, err
	}
	s := &springIssuer{app: app, srv: srv, client: &http.Client{Timeout: requestTimeout, Transport: &http.Transport{Proxy: nil}}}
	atExit(func() { s.server().Stop() })
	return s, nil
}

func (s *springIssuer) server() *springas.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// restart stops the server and starts it again on the same port, so with
// the same issuer, and a new signing key.
func (s *springIssuer) restart(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	port := s.srv.Port
	s.srv.Stop()
	srv, err := s.app.Start(port)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = srv
}

// token gets a client-credentials token for scopes, authenticating with
// client_secret_basic or, with style AuthStyleInParams, client_secret_post.
func (s *springIssuer) token(t *testing.T, id, secret string, style oauth2.AuthStyle, scopes ...string) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: s.server().TokenURL(), AuthStyle: style, Scopes: scopes}
	ctx, cancel := context.WithTimeout(context.WithValue(t.Context(), oauth2.HTTPClient, s.client), requestTimeout)
	defer cancel()
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("Spring token for %s: %v", id, err)
	}
	return tok.AccessToken
}

// TestSpringAuthorizationServer runs every example API, configured from the
// environment as the guide says, against a real Spring Authorization
// Server configured by the guide's application.yml: self-contained JWTs
// (scope a JSON array, the client only in sub) with client_secret_basic
// and client_secret_post, reference tokens through introspection, refused
// once revoked, a token without the scope refused with 403, and, last, a
// restart with a new signing key.
func TestSpringAuthorizationServer(t *testing.T) {
	s := sharedSpring(t)
	issuer := s.server().Issuer
	env := map[string]string{
		"ISSUER_URL": issuer, "AUDIENCE": springas.Audience, "RESOURCE_URL": resourceURL,
		"INTROSPECTION_CLIENT_ID": springas.APIClientID, "INTROSPECTION_CLIENT_SECRET": springas.APIClientSecret,
		"INTROSPECTION_MAX_AGE": "1s",
	}
	cfg := configFromEnv(t, env)
	d := startDoors(t, cfg)

	basic := s.token(t, springas.CountryClientID, springas.CountryClientSecret, oauth2.AuthStyleInHeader, "country.read")
	post := s.token(t, springas.PostClientID, springas.PostClientSecret, oauth2.AuthStyleInParams, "country.read")
	limited := s.token(t, springas.LimitedClientID, springas.LimitedClientSecret, oauth2.AuthStyleInHeader, "customer.read")
	opaque := s.token(t, springas.OpaqueClientID, springas.OpaqueClientSecret, oauth2.AuthStyleInHeader, "country.read")
	if c := claimsOf(t, basic); fmt.Sprint(c["scope"]) != "[country.read]" || c["client_id"] != nil || c["sub"] != springas.CountryClientID {
		t.Errorf("Spring's JWT: scope %v, client_id %v, sub %v; want a JSON array, none, the client", c["scope"], c["client_id"], c["sub"])
	}
	if strings.Count(opaque, ".") == 2 {
		t.Fatal("the reference token is a JWT")
	}
	for i, ex := range examples {
		base := d.http[i]
		t.Run(ex.name, func(t *testing.T) {
			for _, tok := range []string{basic, post, opaque} {
				r := get(t, base+"/country/code/AUS", tok)
				r.wantStatus(t, http.StatusOK)
				r.wantBody(t, ausJSON)
			}
			// The client is only in sub, which is no audience: the
			// examples' Claims.ClientID is empty, as the guide says.
			r := get(t, base+"/api/data", basic)
			r.wantStatus(t, http.StatusOK)
			checkTokenInfo(t, r.body, "", []string{springas.Audience}, []string{"country.read"})
			// Introspection names the client.
			r = get(t, base+"/api/data", opaque)
			r.wantStatus(t, http.StatusOK)
			checkTokenInfo(t, r.body, springas.OpaqueClientID, []string{springas.Audience}, []string{"country.read"})
			r = get(t, base+"/country/code/AUS", limited)
			r.wantStatus(t, http.StatusForbidden)
			r.wantChallenge(t, `error="insufficient_scope"`, `scope="country.read"`)
		})
	}
	t.Run("all answer alike", func(t *testing.T) {
		for _, tok := range []string{basic, post, opaque, limited} {
			wantAlike(t, d.http, "/country/code/AUS", "Bearer "+tok)
			wantAlike(t, d.http, "/api/data", "Bearer "+tok)
		}
	})
	clientEnv := func(id, secret, scopes string) map[string]string {
		return map[string]string{"ISSUER_URL": issuer, "CLIENT_ID": id, "CLIENT_SECRET": secret, "SCOPES": scopes}
	}
	for _, door := range []string{"grpc", "mcp"} {
		t.Run(door, func(t *testing.T) {
			d.wantLookup(t, s.client, door, clientEnv(springas.CountryClientID, springas.CountryClientSecret, "country.read"))
			d.wantLookup(t, s.client, door, clientEnv(springas.PostClientID, springas.PostClientSecret, "country.read"))
			d.wantLookup(t, s.client, door, clientEnv(springas.OpaqueClientID, springas.OpaqueClientSecret, "country.read"))
			d.wantRefused(t, s.client, door, clientEnv(springas.LimitedClientID, springas.LimitedClientSecret, "customer.read"), "PermissionDenied", "Forbidden")
		})
	}

	// The README's mapping for Spring takes the client from sub only when
	// sub is also an audience, as it is without the guide's customizer.
	t.Run("README claim mapping", func(t *testing.T) {
		bc := cfg.BearerConfig(quietLogger())
		bc.Introspection = nil
		bc.Audiences = []string{springas.Audience, springas.CountryClientID}
		bc.Claims = bearer.ClaimMapping{Scopes: []string{"scope", "authorities"}, StripPrefixes: []string{"SCOPE_"}, ClientIDFromSubject: true}
		v, err := bearer.New(bc)
		if err != nil {
			t.Fatal(err)
		}
		noScope := s.token(t, springas.CountryClientID, springas.CountryClientSecret, oauth2.AuthStyleInHeader)
		c, err := v.Verify(t.Context(), noScope)
		if err != nil {
			t.Fatal(err)
		}
		if c.ClientID != springas.CountryClientID || len(c.Scopes) != 0 {
			t.Errorf("token addressed to its client: ClientID %q, scopes %v; want %s and none", c.ClientID, c.Scopes, springas.CountryClientID)
		}
		c, err = v.Verify(t.Context(), basic)
		if err != nil {
			t.Fatal(err)
		}
		if c.ClientID != "" || len(c.Scopes) != 1 || c.Scopes[0] != "country.read" {
			t.Errorf("token addressed to country-api: ClientID %q, scopes %v; want none and country.read", c.ClientID, c.Scopes)
		}
	})

	t.Run("revoked", func(t *testing.T) {
		s.revoke(t, opaque, springas.OpaqueClientID, springas.OpaqueClientSecret)
		time.Sleep(1100 * time.Millisecond) // past INTROSPECTION_MAX_AGE
		for i, ex := range examples {
			t.Run(ex.name, func(t *testing.T) {
				r := get(t, d.http[i]+"/country/code/AUS", opaque)
				r.wantStatus(t, http.StatusUnauthorized)
				r.wantChallenge(t, `error="invalid_token"`, `error_description="the issuer says the token is not active"`)
			})
		}
		wantAlike(t, d.http, "/country/code/AUS", "Bearer "+opaque)
	})

	// A restart generates a new signing key under the same issuer: the
	// examples fetch it on the first token that names it, and refuse the
	// tokens of the old key.
	t.Run("restart with a new key", func(t *testing.T) {
		oldKid := headerField(t, basic, "kid")
		restarted := time.Now()
		s.restart(t)
		fresh := s.token(t, springas.CountryClientID, springas.CountryClientSecret, oauth2.AuthStyleInHeader, "country.read")
		if headerField(t, fresh, "kid") == oldKid {
			t.Fatal("the restarted server signs with the old key")
		}
		// An unknown kid makes a verifier fetch the keys at most once per
		// RefetchCooldown (10 s by default) since its last fetch, and the
		// examples' last fetches were before the restart: Spring can
		// restart quicker than that, and its clients then wait it out.
		time.Sleep(time.Until(restarted.Add(10*time.Second + 500*time.Millisecond)))
		for i, ex := range examples {
			t.Run(ex.name, func(t *testing.T) {
				r := get(t, d.http[i]+"/country/code/AUS", fresh)
				r.wantStatus(t, http.StatusOK)
				r = get(t, d.http[i]+"/country/code/AUS", basic)
				r.wantStatus(t, http.StatusUnauthorized)
				r.wantChallenge(t, `error="invalid_token"`)
			})
		}
		for _, door := range []string{"grpc", "mcp"} {
			d.wantLookup(t, s.client, door, clientEnv(springas.CountryClientID, springas.CountryClientSecret, "country.read"))
		}
		wantAlike(t, d.http, "/country/code/AUS", "Bearer "+basic)
	})
}

// revoke revokes token at the revocation endpoint, as the client it was
// issued to: Spring refuses any other client.
func (s *springIssuer) revoke(t *testing.T, token, clientID, secret string) {
	t.Helper()
	form := url.Values{"token": {token}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.server().RevocationURL(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := s.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %s", resp.Status)
	}
}
