package integration

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bouncer-go/bouncer/examples/internal/javaissuer"
	"github.com/bouncer-go/bouncer/examples/internal/keycloak"
)

// The Keycloak the tests run: realm "services" created from the set-up
// guide's examples/keycloak/realm-services.json, the way the admin
// console's "Create realm" with a resource file does it, and realm
// "services-kcadm" created by the guide's examples/keycloak/kcadm.sh
// through Keycloak's own admin CLI. Clients the guide does not have, each
// showing one more thing about Keycloak's tokens, are added to "services"
// through the admin REST API.
const (
	kcRealm      = "services"
	kcKcadmRealm = "services-kcadm"
	kcAudience   = "country-api" // the guide's Audience mapper and API client

	// The guide's client, with the demo secret of the realm file.
	kcCountryClient = "country-client"
	kcCountrySecret = "demo-secret-regenerate-me"

	// Test clients, all with service accounts and kcTestSecret.
	kcTestSecret = "test-secret-not-for-production"
	// kcPlainClient has only the roles scope: no Audience mapper, so aud
	// is Keycloak's "account" alone.
	kcPlainClient = "plain-client"
	// kcLimitedClient has an Audience mapper of its own but not the scope
	// country.read.
	kcLimitedClient = "limited-client"
	// kcDPoPClient must bind its tokens to a DPoP key ("Require DPoP bound
	// tokens", attribute dpop.bound.access.tokens).
	kcDPoPClient = "dpop-client"
	// kcLightClient gets lightweight access tokens (attribute
	// client.use.lightweight.access.token.enabled): no aud, no roles.
	kcLightClient = "lightweight-client"
	// kcRFC9068Client gets the RFC 9068 header typ at+jwt (attribute
	// access.token.header.type.rfc9068).
	kcRFC9068Client = "rfc9068-client"

	// Roles of country-client's service account: a realm role, and a
	// client role of country-api.
	kcRealmRole  = "country-admin"
	kcClientRole = "country-reader"
)

// keycloakRealm is the running Keycloak with its realms set up.
type keycloakRealm struct {
	srv         *keycloak.Server
	issuer      string // realm services
	kcadmIssuer string // realm services-kcadm
	kcadmSecret string // country-client's secret there, printed by kcadm.sh
	apiSecret   string // the secret of country-api, the API's own client, which introspects
	client      *http.Client
}

var liveKeycloak = shared[*keycloakRealm]{start: startKeycloak}

// sharedKeycloak is the test binary's Keycloak, started by the first test
// that asks for it.
func sharedKeycloak(t *testing.T) *keycloakRealm {
	t.Helper()
	if javaissuer.Skipped(t) {
		return nil
	}
	kc := liveKeycloak.get(t)
	t.Logf("Keycloak %s on %s (start %v)", keycloak.Version, kc.srv.JDK(), kc.srv.Started.Round(100*time.Millisecond))
	return kc
}

func startKeycloak() (*keycloakRealm, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var log bytes.Buffer
	srv, err := keycloak.Start(ctx, &log)
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, log.String())
	}
	atExit(srv.Stop)
	kc := &keycloakRealm{
		srv:         srv,
		issuer:      srv.Issuer(kcRealm),
		kcadmIssuer: srv.Issuer(kcKcadmRealm),
		client:      &http.Client{Timeout: requestTimeout, Transport: &http.Transport{Proxy: nil}},
	}
	if err := kc.setUp(ctx); err != nil {
		return nil, fmt.Errorf("setting Keycloak up: %w\nits output:\n%s", err, srv.Output().Tail(40))
	}
	return kc, nil
}

// kcadmSecretLine is where kcadm.sh prints the secret it got.
var kcadmSecretLine = regexp.MustCompile(`keep it out of logs\):\n\n  (\S+)\n`)

func (kc *keycloakRealm) setUp(ctx context.Context) error {
	admin := kc.srv.Admin
	realmFile, err := os.ReadFile("../keycloak/realm-services.json")
	if err != nil {
		return err
	}
	if _, err := admin.Do(ctx, http.MethodPost, "/admin/realms", realmFile, nil); err != nil {
		return fmt.Errorf("importing realm-services.json: %w", err)
	}
	out, err := kc.srv.Kcadm(ctx, "../keycloak/kcadm.sh", "REALM="+kcKcadmRealm)
	if err != nil {
		return err
	}
	m := kcadmSecretLine.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("kcadm.sh printed no secret:\n%s", out)
	}
	kc.kcadmSecret = m[1]
	if kc.apiSecret, err = admin.ClientSecret(ctx, kcRealm, kcAudience); err != nil {
		return err
	}

	realm := "/admin/realms/" + kcRealm
	client := func(id string, scopes []string, attrs map[string]string, mappers ...map[string]any) map[string]any {
		c := map[string]any{
			"clientId": id, "secret": kcTestSecret, "enabled": true, "protocol": "openid-connect",
			"publicClient": false, "clientAuthenticatorType": "client-secret", "serviceAccountsEnabled": true,
			"standardFlowEnabled": false, "directAccessGrantsEnabled": false,
			"defaultClientScopes": scopes, "optionalClientScopes": []string{}, "attributes": attrs,
		}
		if len(mappers) > 0 {
			c["protocolMappers"] = mappers
		}
		return c
	}
	audienceMapper := map[string]any{
		"name": "country-api-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
		"config": map[string]string{"included.custom.audience": kcAudience, "access.token.claim": "true", "introspection.token.claim": "true"},
	}
	withScope := []string{"roles", "country.read"}
	for _, c := range []map[string]any{
		client(kcPlainClient, []string{"roles"}, nil),
		client(kcLimitedClient, []string{"roles"}, nil, audienceMapper),
		client(kcDPoPClient, withScope, map[string]string{"dpop.bound.access.tokens": "true"}),
		client(kcLightClient, withScope, map[string]string{"client.use.lightweight.access.token.enabled": "true"}),
		client(kcRFC9068Client, withScope, map[string]string{"access.token.header.type.rfc9068": "true"}),
	} {
		if _, err := admin.Create(ctx, realm+"/clients", c); err != nil {
			return err
		}
	}

	// A realm role and a client role of country-api for country-client's
	// service account.
	if _, err := admin.Create(ctx, realm+"/roles", map[string]any{"name": kcRealmRole}); err != nil {
		return err
	}
	apiID, err := admin.ClientUUID(ctx, kcRealm, kcAudience)
	if err != nil {
		return err
	}
	if _, err := admin.Create(ctx, realm+"/clients/"+apiID+"/roles", map[string]any{"name": kcClientRole}); err != nil {
		return err
	}
	user, err := admin.ServiceAccountUser(ctx, kcRealm, kcCountryClient)
	if err != nil {
		return err
	}
	var realmRole, clientRole map[string]any
	if _, err := admin.Do(ctx, http.MethodGet, realm+"/roles/"+kcRealmRole, nil, &realmRole); err != nil {
		return err
	}
	if _, err := admin.Do(ctx, http.MethodGet, realm+"/clients/"+apiID+"/roles/"+kcClientRole, nil, &clientRole); err != nil {
		return err
	}
	if _, err := admin.Do(ctx, http.MethodPost, realm+"/users/"+user+"/role-mappings/realm", []any{realmRole}, nil); err != nil {
		return err
	}
	if _, err := admin.Do(ctx, http.MethodPost, realm+"/users/"+user+"/role-mappings/clients/"+apiID, []any{clientRole}, nil); err != nil {
		return err
	}
	return nil
}

// tokenURL is the token endpoint of the realm whose issuer is issuer.
func kcTokenURL(issuer string) string { return issuer + "/protocol/openid-connect/token" }

// token gets a client-credentials token from realm services,
// authenticating with client_secret_basic or, with style
// AuthStyleInParams, client_secret_post.
func (kc *keycloakRealm) token(t *testing.T, clientID, secret string, style oauth2.AuthStyle) string {
	t.Helper()
	return kc.tokenFrom(t, kc.issuer, clientID, secret, style)
}

func (kc *keycloakRealm) tokenFrom(t *testing.T, issuer, clientID, secret string, style oauth2.AuthStyle) string {
	t.Helper()
	cc := clientcredentials.Config{ClientID: clientID, ClientSecret: secret, TokenURL: kcTokenURL(issuer), AuthStyle: style}
	ctx, cancel := context.WithTimeout(context.WithValue(t.Context(), oauth2.HTTPClient, kc.client), requestTimeout)
	defer cancel()
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("Keycloak token for %s: %v", clientID, err)
	}
	return tok.AccessToken
}

// testClientToken is a token of one of the test clients.
func (kc *keycloakRealm) testClientToken(t *testing.T, clientID string) string {
	t.Helper()
	return kc.token(t, clientID, kcTestSecret, oauth2.AuthStyleInHeader)
}
