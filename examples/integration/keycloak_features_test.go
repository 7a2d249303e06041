package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/internal/tokenclient"
)

// DPoP against Keycloak: dpop-client requires DPoP-bound tokens
// (dpop.bound.access.tokens). The client example with DPOP=1 gets a bound
// token (cnf.jkt, typ claim DPoP) with a proof and calls every HTTP
// example with it; the same token sent as Bearer is refused.
func TestKeycloakDPoP(t *testing.T) {
	kc := sharedKeycloak(t)
	cfg := configFromEnv(t, map[string]string{"ISSUER_URL": kc.issuer, "AUDIENCE": kcAudience, "RESOURCE_URL": resourceURL})
	bases := startAll(t, cfg)

	// Keycloak refuses the client a token without a proof.
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, kc.client)
	if _, err := kcConfig(kc.issuer, kcDPoPClient, kcTestSecret).Token(ctx); err == nil {
		t.Error("Keycloak issued dpop-client a token without a DPoP proof")
	}
	bound := kc.dpopToken(t)
	claims := claimsOf(t, bound)
	t.Logf("Keycloak's DPoP-bound token: typ %v, cnf %v", claims["typ"], claims["cnf"])
	if claims["typ"] != "DPoP" || claims["cnf"] == nil {
		t.Errorf("bound token: typ %v, cnf %v; want DPoP and a cnf.jkt", claims["typ"], claims["cnf"])
	}
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			out := runClientWith(t, kc.client, map[string]string{
				"ISSUER_URL": kc.issuer, "CLIENT_ID": kcDPoPClient, "CLIENT_SECRET": kcTestSecret,
				"DPOP": "1", "API_URL": bases[i] + "/country/code/AUS",
			}, nil)
			for _, want := range []string{"obtained a DPoP token", "200 OK", ausJSON} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			r := get(t, bases[i]+"/country/code/AUS", bound)
			r.wantStatus(t, http.StatusUnauthorized)
			r.wantChallenge(t, `error="invalid_token"`, "cnf.jkt")
		})
	}
	wantAlike(t, bases, "/country/code/AUS", "Bearer "+bound)
	wantAlike(t, bases, "/country/code/AUS", "DPoP "+bound)
}

// dpopToken gets dpop-client a token bound to a fresh key, sending a proof
// with the token request.
func (kc *keycloakRealm) dpopToken(t *testing.T) string {
	t.Helper()
	key, err := bearertest.NewKey("ES256")
	if err != nil {
		t.Fatal(err)
	}
	tokenURL := kcTokenURL(kc.issuer)
	proof, err := key.DPoPProof(http.MethodPost, tokenURL, "", "")
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, tokenURL, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("DPoP", proof)
	req.SetBasicAuth(kcDPoPClient, kcTestSecret)
	resp, err := kc.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.TokenType != "DPoP" {
		t.Fatalf("DPoP token request: %s %v %+v", resp.Status, err, tok)
	}
	return tok.AccessToken
}

// Introspection of Keycloak's JWTs (Config.Introspection.AllTokens), as
// the API's own client country-api: tokens are accepted, lightweight
// access tokens (no aud, no roles in the JWT) are accepted through what
// introspection tells, and a token revoked at Keycloak's revocation
// endpoint is refused once MaxAge has passed, on every front door.
func TestKeycloakIntrospection(t *testing.T) {
	kc := sharedKeycloak(t)
	env := map[string]string{
		"ISSUER_URL": kc.issuer, "AUDIENCE": kcAudience, "RESOURCE_URL": resourceURL,
		"INTROSPECTION_CLIENT_ID": kcAudience, "INTROSPECTION_CLIENT_SECRET": kc.apiSecret,
		"INTROSPECTION_ALL_TOKENS": "1", "INTROSPECTION_MAX_AGE": "1s",
	}
	d := startDoors(t, configFromEnv(t, env))
	plain := startAll(t, configFromEnv(t, map[string]string{"ISSUER_URL": kc.issuer, "AUDIENCE": kcAudience, "RESOURCE_URL": resourceURL}))

	reader := kc.token(t, kcCountryClient, kcCountrySecret, oauth2.AuthStyleInHeader)
	light := kc.testClientToken(t, kcLightClient)
	if c := claimsOf(t, light); c["aud"] != nil || c["realm_access"] != nil {
		t.Errorf("lightweight token carries aud %v and roles %v; want neither", c["aud"], c["realm_access"])
	}
	for i, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			for _, tok := range []string{reader, light} {
				r := get(t, d.http[i]+"/country/code/AUS", tok)
				r.wantStatus(t, http.StatusOK)
				r.wantBody(t, ausJSON)
			}
			r := get(t, d.http[i]+"/api/data", light)
			r.wantStatus(t, http.StatusOK)
			checkTokenInfo(t, r.body, kcLightClient, []string{kcAudience, "account"}, []string{"country.read"})
			// Without introspection the lightweight token names no audience.
			r = get(t, plain[i]+"/country/code/AUS", light)
			r.wantStatus(t, http.StatusUnauthorized)
			r.wantChallenge(t, `error_description="the token is not meant for this API"`)
		})
	}
	for _, tok := range []string{reader, light} {
		wantAlike(t, d.http, "/country/code/AUS", "Bearer "+tok)
	}
	for _, door := range []string{"grpc", "mcp"} {
		d.wantLookup(t, kc.client, door, map[string]string{"ISSUER_URL": kc.issuer, "CLIENT_ID": kcLightClient, "CLIENT_SECRET": kcTestSecret})
	}

	t.Run("revoked", func(t *testing.T) {
		kc.revoke(t, reader, kcCountryClient, kcCountrySecret)
		time.Sleep(1100 * time.Millisecond) // past INTROSPECTION_MAX_AGE
		for i, ex := range examples {
			t.Run(ex.name, func(t *testing.T) {
				r := get(t, d.http[i]+"/country/code/AUS", reader)
				r.wantStatus(t, http.StatusUnauthorized)
				r.wantChallenge(t, `error="invalid_token"`, `error_description="the issuer says the token is not active"`)
			})
		}
		wantAlike(t, d.http, "/country/code/AUS", "Bearer "+reader)
		// Without AllTokens the revoked JWT still verifies by its
		// signature until it expires: revocation needs introspection.
		get(t, plain[0]+"/country/code/AUS", reader).wantStatus(t, http.StatusOK)
	})
}

// revoke revokes token at Keycloak's revocation endpoint (RFC 7009), as
// the client it was issued to.
func (kc *keycloakRealm) revoke(t *testing.T, token, clientID, secret string) {
	t.Helper()
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, kc.issuer+"/protocol/openid-connect/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(clientID, secret)
	resp, err := kc.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revocation: %s", resp.Status)
	}
}

// The command-line tool against the live realm: token gets a token with
// the guide's client, check accepts it and refuses a token without the
// Audience mapper with the hint about Keycloak's "account", and metadata
// lists the encryption key as skipped.
func TestKeycloakCLI(t *testing.T) {
	kc := sharedKeycloak(t)
	bin := buildBouncer(t)
	run := func(wantExit int, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), bin, args...)
		cmd.Env = append(os.Environ(), "BOUNCER_CLIENT_SECRET=")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != wantExit {
			t.Fatalf("bouncer %s: exit %d, want %d:\n%s", strings.Join(args, " "), code, wantExit, out)
		}
		// The report wraps its hints: compare words.
		return strings.Join(strings.Fields(string(out)), " ")
	}
	tok := strings.TrimSpace(run(0, "token", "--issuer", kc.issuer, "--client-id", kcCountryClient, "--client-secret", kcCountrySecret, "--auth", "post"))
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("bouncer token printed %q", tok)
	}
	out := run(0, "check", "--issuer", kc.issuer, "--audience", kcAudience, "--scope", "country.read", tok)
	if !strings.Contains(out, "accepted") {
		t.Errorf("check of a good token:\n%s", out)
	}
	out = run(1, "check", "--issuer", kc.issuer, "--audience", kcAudience, kc.testClientToken(t, kcPlainClient))
	for _, want := range []string{`"account"`, `Keycloak's "account" is its own account console, not this API`} {
		if !strings.Contains(out, want) {
			t.Errorf("check of a token without the Audience mapper lacks %q:\n%s", want, out)
		}
	}
	out = run(2, "check", "--issuer", kc.issuer, "--audience", kcAudience, "--scope", "country.read", kc.testClientToken(t, kcLimitedClient))
	if !strings.Contains(out, "country.read") {
		t.Errorf("check without the scope:\n%s", out)
	}
	out = run(0, "metadata", "--issuer", kc.issuer)
	for _, want := range []string{"RSA-OAEP", "enc", kc.issuer + "/protocol/openid-connect/certs"} {
		if !strings.Contains(out, want) {
			t.Errorf("metadata lacks %q:\n%s", want, out)
		}
	}
}

// buildBouncer builds the command-line tool, from this workspace, into
// the test's directory.
func buildBouncer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "bouncer")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "github.com/bouncer-go/bouncer/cmd/bouncer")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/bouncer: %v\n%s", err, out)
	}
	return bin
}

// kcConfig is a client-credentials configuration for a client of the
// realm whose issuer is issuer (client_secret_basic).
func kcConfig(issuer, id, secret string) *clientcredentials.Config {
	return &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: kcTokenURL(issuer), AuthStyle: oauth2.AuthStyleInHeader}
}

// runClientWith runs the client example's logic with env over hc and
// returns what it printed. With runErr nil it must succeed; otherwise its
// error is stored there.
func runClientWith(t *testing.T, hc *http.Client, env map[string]string, runErr *error) string {
	t.Helper()
	cfg, err := tokenclient.ConfigFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	err = tokenclient.Run(t.Context(), cfg, hc, &out)
	if runErr != nil {
		*runErr = err
	} else if err != nil {
		t.Fatalf("Run: %v; output:\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "eyJ") {
		t.Errorf("output shows a token:\n%s", out.String())
	}
	return out.String()
}
