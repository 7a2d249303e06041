package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bouncer-go/bouncer/examples/internal/keycloak"
	"github.com/bouncer-go/bouncer/examples/internal/springas"
)

// TestRecordFixtures records, from the live Keycloak and Spring
// Authorization Server, the documents and token shapes that the fast unit
// tests of core/bearer read from testdata: discovery documents, key sets,
// tokens (header and claims, never a signature) and introspection
// answers. It runs only when asked:
//
//	cd examples && BOUNCER_RECORD_FIXTURES=1 go test -run TestRecordFixtures ./integration/
func TestRecordFixtures(t *testing.T) {
	if os.Getenv("BOUNCER_RECORD_FIXTURES") != "1" {
		t.Skip("set BOUNCER_RECORD_FIXTURES=1 to record testdata from the live issuers")
	}
	root := "../../testdata"
	date := time.Now().UTC().Format("2006-01-02")
	kc := sharedKeycloak(t)
	kcSource := fmt.Sprintf("recorded %s from Keycloak %s (start-dev, %s) by examples/integration TestRecordFixtures", date, keycloak.Version, kc.srv.JDK())

	// Keycloak: the realm imported from realm-services.json.
	writeDoc(t, root, "discovery/keycloak-26.7.3.json", kcSource+"; realm services", fetchJSON(t, kc.client, kc.issuer+"/.well-known/openid-configuration"))
	writeDoc(t, root, "jwks/keycloak-26.7.3.json", kcSource+"; realm services", fetchJSON(t, kc.client, kc.issuer+"/protocol/openid-connect/certs"))
	basic := kc.token(t, kcCountryClient, kcCountrySecret, oauth2.AuthStyleInHeader)
	writeToken(t, root, "keycloak-26.7.3-client-credentials.json", basic,
		"Keycloak 26.7.3 service-account token of country-client in a realm imported from examples/keycloak/realm-services.json, whose service account holds a realm role and a client role of country-api: no client_id, clientHost or preferred_username (the realm declares its client scopes, so Keycloak's service_account scope is absent), jti prefixed with its token type, scope a string, aud country-api beside account.",
		kcSource+"; realm services, client country-client (client_secret_basic)", "azp")
	kcadmTok := kc.tokenFrom(t, kc.kcadmIssuer, kcCountryClient, kc.kcadmSecret, oauth2.AuthStyleInHeader)
	writeToken(t, root, "keycloak-26.7.3-kcadm-realm.json", kcadmTok,
		"Keycloak 26.7.3 service-account token of country-client in a realm created by examples/keycloak/kcadm.sh, which gets Keycloak's built-in client scopes: client_id, clientHost, clientAddress, preferred_username and acr appear, and scope adds email and profile.",
		kcSource+"; realm services-kcadm", "client_id")
	light := kc.testClientToken(t, kcLightClient)
	// Not among testdata/tokens, whose every token names an audience.
	write(t, filepath.Join(root, "introspection", "keycloak-26.7.3-lightweight-token.json"), map[string]any{
		"description": "Keycloak 26.7.3 lightweight access token (client attribute client.use.lightweight.access.token.enabled): no aud, no roles; only introspection tells them.",
		"source":      kcSource + "; realm services, client lightweight-client",
		"header":      jwtPart(t, light, 0), "claims": jwtPart(t, light, 1),
	})
	writeDoc(t, root, "introspection/keycloak-26.7.3-lightweight.json", kcSource+"; the answer to introspecting the lightweight token as country-api",
		kc.introspect(t, light))
	rfc := kc.testClientToken(t, kcRFC9068Client)
	writeToken(t, root, "keycloak-26.7.3-rfc9068.json", rfc,
		"Keycloak 26.7.3 token of a client with access.token.header.type.rfc9068: header typ at+jwt.",
		kcSource+"; realm services, client rfc9068-client", "azp")

	// Spring Authorization Server with the guide's application.yml.
	s := sharedSpring(t)
	sSource := fmt.Sprintf("recorded %s from Spring Authorization Server (Spring Boot %s, Spring Security 7.0) on %s, configured by examples/spring/application.yml, by examples/integration TestRecordFixtures", date, springas.BootVersion, s.app.JDK)
	issuer := s.server().Issuer
	writeDoc(t, root, "discovery/spring-authorization-server-boot-4.0.7.json", sSource, fetchJSON(t, s.client, issuer+"/.well-known/openid-configuration"))
	writeDoc(t, root, "jwks/spring-authorization-server-boot-4.0.7.json", sSource, fetchJSON(t, s.client, issuer+"/oauth2/jwks"))
	jwt := s.token(t, springas.CountryClientID, springas.CountryClientSecret, oauth2.AuthStyleInHeader, "country.read")
	writeToken(t, root, "spring-authorization-server-boot-4.0.7.json", jwt,
		"Spring Authorization Server (Spring Boot 4.0.7) client_credentials token with the guide's audience customizer: scope a JSON array, aud a single string, jti present, no client_id claim (the client is only sub), no typ header.",
		sSource+"; client country-client", "")
	opaque := s.token(t, springas.OpaqueClientID, springas.OpaqueClientSecret, oauth2.AuthStyleInHeader, "country.read")
	writeDoc(t, root, "introspection/spring-authorization-server-boot-4.0.7-reference.json", sSource+"; the answer to introspecting a reference token of opaque-client as country-api",
		s.introspect(t, opaque))
}

func fetchJSON(t *testing.T, hc *http.Client, url string) json.RawMessage {
	t.Helper()
	var raw json.RawMessage
	getJSONFrom(t, hc, url, &raw)
	return raw
}

// writeDoc writes a recorded document with its provenance.
func writeDoc(t *testing.T, root, name, source string, doc json.RawMessage) {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(root, name), map[string]any{"source": source, "document": v})
}

// writeToken writes a token's header and claims in the form of
// testdata/tokens, with what bearer.Claims must make of them: the
// calling client from clientClaim ("" for none), the realm roles of
// realm_access, the client roles of resource_access.
func writeToken(t *testing.T, root, name, token, description, source, clientClaim string) {
	t.Helper()
	header, claims := jwtPart(t, token, 0), jwtPart(t, token, 1)
	header["kid"] = "set-by-test"
	str := func(k string) string { s, _ := claims[k].(string); return s }
	list := func(v any) []string {
		var out []string
		switch v := v.(type) {
		case string:
			out = strings.Fields(v)
		case []any:
			for _, e := range v {
				out = append(out, fmt.Sprint(e))
			}
		}
		if out == nil {
			out = []string{}
		}
		return out
	}
	roles := []string{}
	if ra, ok := claims["realm_access"].(map[string]any); ok {
		roles = list(ra["roles"])
	}
	clientRoles := map[string][]string{}
	if ra, ok := claims["resource_access"].(map[string]any); ok {
		for c, v := range ra {
			if m, ok := v.(map[string]any); ok {
				clientRoles[c] = list(m["roles"])
			}
		}
	}
	aud := list(claims["aud"])
	scopes := list(claims["scope"]) // in the token's order, as Claims keeps them
	normalised := map[string]any{
		"subject": str("sub"), "audience": aud, "client_id": str(clientClaim), "scopes": scopes,
		"roles": roles, "client_roles": clientRoles, "tenant_id": "", "id": str("jti"),
	}
	write(t, filepath.Join(root, "tokens", name), map[string]any{
		"description": description, "source": source, "header": header, "claims": claims, "normalised": normalised,
	})
}

func write(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// introspect asks Keycloak's introspection endpoint about token as
// country-api.
func (kc *keycloakRealm) introspect(t *testing.T, token string) json.RawMessage {
	t.Helper()
	return postIntrospect(t, kc.client, kc.issuer+"/protocol/openid-connect/token/introspect", kcAudience, kc.apiSecret, token)
}

func (s *springIssuer) introspect(t *testing.T, token string) json.RawMessage {
	t.Helper()
	return postIntrospect(t, s.client, s.server().IntrospectionURL(), springas.APIClientID, springas.APIClientSecret, token)
}

func postIntrospect(t *testing.T, hc *http.Client, endpoint, id, secret, token string) json.RawMessage {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, endpoint, strings.NewReader("token="+token))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("introspection: %s %v", resp.Status, err)
	}
	return raw
}
