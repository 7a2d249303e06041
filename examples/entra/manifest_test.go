// Package entra_test keeps manifest-fragment.json and setup.sh honest: the
// fragment must be a valid piece of an Entra (Microsoft Graph) application
// manifest with the app role the set-up guide grants to the daemon.
package entra_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type manifest struct {
	IdentifierURIs []string `json:"identifierUris"`
	API            struct {
		RequestedAccessTokenVersion int `json:"requestedAccessTokenVersion"`
	} `json:"api"`
	AppRoles []appRole `json:"appRoles"`
}

type appRole struct {
	AllowedMemberTypes []string `json:"allowedMemberTypes"`
	Description        string   `json:"description"`
	DisplayName        string   `json:"displayName"`
	ID                 string   `json:"id"`
	IsEnabled          bool     `json:"isEnabled"`
	Value              string   `json:"value"`
}

var guid = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func readManifest(t *testing.T) manifest {
	t.Helper()
	b, err := os.ReadFile("manifest-fragment.json")
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) {
		t.Fatal("manifest-fragment.json is not valid JSON")
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest-fragment.json: %v", err)
	}
	return m
}

func TestCountryReadAllIsAnApplicationPermission(t *testing.T) {
	m := readManifest(t)
	var found []appRole
	ids := map[string]bool{}
	for _, r := range m.AppRoles {
		if r.Value == "Country.Read.All" {
			found = append(found, r)
		}
		if !guid.MatchString(r.ID) {
			t.Errorf("app role %s: id %q is not a lower-case GUID", r.Value, r.ID)
		}
		if ids[r.ID] {
			t.Errorf("app role id %s is used twice", r.ID)
		}
		ids[r.ID] = true
		if r.DisplayName == "" || r.Description == "" {
			t.Errorf("app role %s needs a displayName and a description", r.Value)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one app role Country.Read.All, got %d", len(found))
	}
	r := found[0]
	if !slices.Contains(r.AllowedMemberTypes, "Application") {
		t.Errorf("allowedMemberTypes = %v: it must include Application, or no daemon can be granted it", r.AllowedMemberTypes)
	}
	if !r.IsEnabled {
		t.Error("isEnabled must be true")
	}
}

func TestManifestAsksForV2Tokens(t *testing.T) {
	m := readManifest(t)
	if m.API.RequestedAccessTokenVersion != 2 {
		t.Errorf("api.requestedAccessTokenVersion = %d, want 2 (null or 1 means v1 tokens, issuer sts.windows.net)", m.API.RequestedAccessTokenVersion)
	}
	if len(m.IdentifierURIs) != 1 || !strings.HasPrefix(m.IdentifierURIs[0], "api://") {
		t.Errorf("identifierUris = %v, want one api:// URI", m.IdentifierURIs)
	}
}

// setup.sh must do what the guide says it does.
func TestSetupScript(t *testing.T) {
	b, err := os.ReadFile("setup.sh")
	if err != nil {
		t.Fatal(err)
	}
	script := string(b)
	for _, want := range []string{
		"az ad app create",
		`--app-roles "@$HERE/manifest-fragment.json"`,
		`--identifier-uris "api://$API_APP_ID"`,
		"--set api.requestedAccessTokenVersion=2",
		"az ad sp create",
		"az ad app credential reset",
		"appRoles[?value=='Country.Read.All'].id",
		"/servicePrincipals/$API_SP_ID/appRoleAssignedTo",
		"scope=api://$API_APP_ID/.default",
		"https://login.microsoftonline.com/$TENANT_ID/oauth2/v2.0/token",
		"ISSUER_URL=https://login.microsoftonline.com/$TENANT_ID/v2.0 AUDIENCE=$API_APP_ID",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("setup.sh lacks %s", want)
		}
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash to check the script's syntax")
	}
	if out, err := exec.Command(bash, "-n", "setup.sh").CombinedOutput(); err != nil {
		t.Errorf("bash -n setup.sh: %v\n%s", err, out)
	}
}
