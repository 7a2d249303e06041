// Package keycloak_test keeps realm-services.json and kcadm.sh honest: the
// realm file must say what the set-up guide in examples/README.md promises,
// in member names Keycloak's import reads.
package keycloak_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const realmFile = "realm-services.json"

type realm struct {
	Realm                       string        `json:"realm"`
	Enabled                     bool          `json:"enabled"`
	DefaultDefaultClientScopes  []string      `json:"defaultDefaultClientScopes"`
	DefaultOptionalClientScopes []string      `json:"defaultOptionalClientScopes"`
	ClientScopes                []clientScope `json:"clientScopes"`
	Clients                     []client      `json:"clients"`
}

type clientScope struct {
	Name            string            `json:"name"`
	Protocol        string            `json:"protocol"`
	Attributes      map[string]string `json:"attributes"`
	ProtocolMappers []protocolMapper  `json:"protocolMappers"`
}

type protocolMapper struct {
	Name           string            `json:"name"`
	Protocol       string            `json:"protocol"`
	ProtocolMapper string            `json:"protocolMapper"`
	Config         map[string]string `json:"config"`
}

// client uses pointers for the switches whose default Keycloak chooses
// when a member is absent: the file must state them.
type client struct {
	ClientID                  string            `json:"clientId"`
	Enabled                   *bool             `json:"enabled"`
	Protocol                  string            `json:"protocol"`
	PublicClient              *bool             `json:"publicClient"`
	BearerOnly                *bool             `json:"bearerOnly"`
	ClientAuthenticatorType   string            `json:"clientAuthenticatorType"`
	Secret                    string            `json:"secret"`
	ServiceAccountsEnabled    *bool             `json:"serviceAccountsEnabled"`
	StandardFlowEnabled       *bool             `json:"standardFlowEnabled"`
	ImplicitFlowEnabled       *bool             `json:"implicitFlowEnabled"`
	DirectAccessGrantsEnabled *bool             `json:"directAccessGrantsEnabled"`
	Attributes                map[string]string `json:"attributes"`
	DefaultClientScopes       []string          `json:"defaultClientScopes"`
	OptionalClientScopes      []string          `json:"optionalClientScopes"`
}

// Member names of Keycloak's RealmRepresentation, ClientScopeRepresentation,
// ProtocolMapperRepresentation and ClientRepresentation that the file may
// use. encoding/json matches names without regard to case, Keycloak does
// not: a misspelt member would be ignored by Keycloak, silently.
var (
	realmMembers = []string{
		"realm", "displayName", "enabled", "sslRequired",
		"defaultDefaultClientScopes", "defaultOptionalClientScopes",
		"clientScopes", "clients",
	}
	scopeMembers  = []string{"name", "description", "protocol", "attributes", "protocolMappers"}
	mapperMembers = []string{"name", "protocol", "protocolMapper", "consentRequired", "config"}
	clientMembers = []string{
		"clientId", "name", "description", "enabled", "protocol",
		"publicClient", "bearerOnly", "clientAuthenticatorType", "secret",
		"serviceAccountsEnabled", "standardFlowEnabled", "implicitFlowEnabled",
		"directAccessGrantsEnabled", "frontchannelLogout", "fullScopeAllowed",
		"attributes", "defaultClientScopes", "optionalClientScopes",
	}
)

func readRealm(t *testing.T) realm {
	t.Helper()
	b, err := os.ReadFile(realmFile)
	if err != nil {
		t.Fatal(err)
	}
	var r realm
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", realmFile, err)
	}
	return r
}

func findClient(t *testing.T, r realm, id string) client {
	t.Helper()
	for _, c := range r.Clients {
		if c.ClientID == id {
			return c
		}
	}
	t.Fatalf("%s has no client %s", realmFile, id)
	return client{}
}

func findScope(t *testing.T, r realm, name string) clientScope {
	t.Helper()
	for _, s := range r.ClientScopes {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("%s has no client scope %s", realmFile, name)
	return clientScope{}
}

func isTrue(b *bool) bool  { return b != nil && *b }
func isFalse(b *bool) bool { return b != nil && !*b }

func TestRealmFileUsesKeycloakMemberNames(t *testing.T) {
	b, err := os.ReadFile(realmFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", realmFile, err)
	}
	checkMembers(t, "realm", doc, realmMembers)
	for _, s := range objects(t, doc["clientScopes"]) {
		checkMembers(t, "client scope "+str(s["name"]), s, scopeMembers)
		for _, m := range objects(t, s["protocolMappers"]) {
			checkMembers(t, "mapper "+str(m["name"]), m, mapperMembers)
		}
	}
	for _, c := range objects(t, doc["clients"]) {
		checkMembers(t, "client "+str(c["clientId"]), c, clientMembers)
	}
}

func checkMembers(t *testing.T, what string, obj map[string]any, allowed []string) {
	t.Helper()
	for k := range obj {
		if !slices.Contains(allowed, k) {
			t.Errorf("%s: member %q is not one this test knows Keycloak to read", what, k)
		}
	}
}

func objects(t *testing.T, v any) []map[string]any {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("want a JSON array, got %T", v)
	}
	var out []map[string]any
	for _, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			t.Fatalf("want JSON objects in the array, got %T", e)
		}
		out = append(out, o)
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }

func TestRealmIsServices(t *testing.T) {
	r := readRealm(t)
	if r.Realm != "services" || !r.Enabled {
		t.Errorf("realm = %q, enabled = %v; want services, enabled (issuer .../realms/services)", r.Realm, r.Enabled)
	}
}

func TestCountryClientIsConfidentialWithClientCredentialsOnly(t *testing.T) {
	c := findClient(t, readRealm(t), "country-client")
	if !isTrue(c.Enabled) {
		t.Error("enabled must be true")
	}
	if c.Protocol != "openid-connect" {
		t.Errorf("protocol = %q, want openid-connect", c.Protocol)
	}
	if !isFalse(c.PublicClient) {
		t.Error("publicClient must be false: the client authenticates with its secret")
	}
	if !isFalse(c.BearerOnly) {
		t.Error("bearerOnly must be false: the client obtains tokens")
	}
	if c.ClientAuthenticatorType != "client-secret" {
		t.Errorf("clientAuthenticatorType = %q, want client-secret", c.ClientAuthenticatorType)
	}
	if c.Secret == "" {
		t.Error("secret must be set, so that the guide's curl works right after the import")
	}
	if !isTrue(c.ServiceAccountsEnabled) {
		t.Error("serviceAccountsEnabled must be true: it is the client-credentials grant")
	}
	for name, on := range map[string]*bool{
		"standardFlowEnabled":       c.StandardFlowEnabled,
		"implicitFlowEnabled":       c.ImplicitFlowEnabled,
		"directAccessGrantsEnabled": c.DirectAccessGrantsEnabled,
	} {
		if !isFalse(on) {
			t.Errorf("%s must be stated and false: client credentials is the only flow", name)
		}
	}
	for _, attr := range []string{"oauth2.device.authorization.grant.enabled", "oidc.ciba.grant.enabled"} {
		if c.Attributes[attr] == "true" {
			t.Errorf("attribute %s must not be true", attr)
		}
	}
}

func TestCountryReadScopePutsCountryAPIInAud(t *testing.T) {
	s := findScope(t, readRealm(t), "country.read")
	if s.Protocol != "openid-connect" {
		t.Errorf("protocol = %q, want openid-connect", s.Protocol)
	}
	if s.Attributes["include.in.token.scope"] != "true" {
		t.Error(`attribute include.in.token.scope must be "true", or country.read is missing from the token's scope`)
	}
	var audience []protocolMapper
	for _, m := range s.ProtocolMappers {
		if m.ProtocolMapper == "oidc-audience-mapper" {
			audience = append(audience, m)
		}
	}
	if len(audience) != 1 {
		t.Fatalf("want one oidc-audience-mapper on country.read, got %d", len(audience))
	}
	m := audience[0]
	if m.Protocol != "openid-connect" {
		t.Errorf("mapper protocol = %q, want openid-connect", m.Protocol)
	}
	for key, want := range map[string]string{
		"included.custom.audience": "country-api",
		"access.token.claim":       "true",
		"id.token.claim":           "false",
	} {
		if got := m.Config[key]; got != want {
			t.Errorf("mapper config %s = %q, want %q", key, got, want)
		}
	}
	if c := m.Config["included.client.audience"]; c != "" {
		t.Errorf("mapper config included.client.audience = %q: Keycloak prefers it to the custom audience", c)
	}
}

func TestCountryReadIsAClientScopeOfCountryClient(t *testing.T) {
	c := findClient(t, readRealm(t), "country-client")
	if !slices.Contains(c.DefaultClientScopes, "country.read") && !slices.Contains(c.OptionalClientScopes, "country.read") {
		t.Error("country.read must be a default or optional client scope of country-client")
	}
}

// A realm file that declares clientScopes gets none of Keycloak's built-in
// ones (RealmManager.importRealm creates them only when clientScopes is
// absent), and a client naming an undeclared scope loses it with a mere
// warning in the server log.
func TestEveryScopeNamedIsDeclared(t *testing.T) {
	r := readRealm(t)
	declared := map[string]bool{}
	for _, s := range r.ClientScopes {
		if declared[s.Name] {
			t.Errorf("client scope %s is declared twice", s.Name)
		}
		declared[s.Name] = true
	}
	check := func(where string, names []string) {
		for _, n := range names {
			if !declared[n] {
				t.Errorf("%s names client scope %s, which the file does not declare", where, n)
			}
		}
	}
	check("defaultDefaultClientScopes", r.DefaultDefaultClientScopes)
	check("defaultOptionalClientScopes", r.DefaultOptionalClientScopes)
	for _, c := range r.Clients {
		check("client "+c.ClientID, append(slices.Clone(c.DefaultClientScopes), c.OptionalClientScopes...))
	}
}

func TestCountryAPIClientHasNoFlow(t *testing.T) {
	c := findClient(t, readRealm(t), "country-api")
	for name, on := range map[string]*bool{
		"serviceAccountsEnabled":    c.ServiceAccountsEnabled,
		"standardFlowEnabled":       c.StandardFlowEnabled,
		"implicitFlowEnabled":       c.ImplicitFlowEnabled,
		"directAccessGrantsEnabled": c.DirectAccessGrantsEnabled,
	} {
		if !isFalse(on) {
			t.Errorf("%s must be stated and false: the API never obtains tokens", name)
		}
	}
}

// kcadm.sh must build what the realm file imports.
func TestKcadmScriptMatchesRealmFile(t *testing.T) {
	b, err := os.ReadFile("kcadm.sh")
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	for _, want := range []string{
		"config credentials",
		"create realms -s realm=\"$REALM\"",
		"REALM=${REALM:-services}",
		"create client-scopes",
		"-s name=country.read",
		`'attributes."include.in.token.scope"=true'`,
		"protocolMapper=oidc-audience-mapper",
		`'config."included.custom.audience"=country-api'`,
		`'config."access.token.claim"=true'`,
		`'config."id.token.claim"=false'`,
		"-s clientId=country-client",
		"-s publicClient=false",
		"-s clientAuthenticatorType=client-secret",
		"-s serviceAccountsEnabled=true",
		"-s standardFlowEnabled=false",
		"-s directAccessGrantsEnabled=false",
		"/default-client-scopes/$SCOPE_ID",
		"/client-secret",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("kcadm.sh lacks %s", want)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to check the script's syntax")
	}
	if out, err := exec.Command(bash, "-n", "kcadm.sh").CombinedOutput(); err != nil {
		t.Errorf("bash -n kcadm.sh: %v\n%s", err, out)
	}
}
