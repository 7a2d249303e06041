package integration

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/ssf"
	"github.com/bouncer-go/bouncer/examples/internal/keycloak"
)

// Keycloak's Shared Signals transmitter (feature ssf, experimental in
// 26.7) pushing to core/ssf's receiver. A realm of its own, so that no
// other test's admin actions reach the stream:
const (
	kcSSFRealm    = "services-ssf"
	kcSSFAudience = "ssf-api" // the audience of the tokens the API accepts
	// kcSSFReceiver is the receiver's client: it creates the stream (scope
	// ssf.manage).
	kcSSFReceiver = "ssf-receiver"
	// kcSSFCaller calls the API with a client-credentials token.
	kcSSFCaller = "ssf-caller"
	// kcSSFApp gets user tokens with the password grant, for kcSSFUser.
	kcSSFApp  = "ssf-app"
	kcSSFUser = "ada"
)

// TestKeycloakSharedSignals: a token the API accepts is refused with
// bearer.ErrRevoked once an administrator acts in Keycloak and Keycloak's
// transmitter pushes the event to core/ssf's receiver: logging out a
// service account's sessions (CAEP session-revoked, its subject a complex
// identifier with the user's iss_sub) takes back the client's tokens;
// resetting a user's password (CAEP credential-change, an iss_sub
// identifier) takes back the user's. Each SET is verified by Keycloak's
// keys found through its /.well-known/ssf-configuration, aud this
// receiver, typ secevent+jwt, and the Authorization header of the stream.
// The delay from the admin action to the refusal is logged.
func TestKeycloakSharedSignals(t *testing.T) {
	kc := sharedKeycloak(t)
	ctx := t.Context()
	issuer := kc.srv.Issuer(kcSSFRealm)
	logger := slog.New(slog.NewTextHandler(tWriter{t}, nil))

	// The receiver's push endpoint, on a free loopback port.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pushURL := "http://" + ln.Addr().String() + "/ssf/events"
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	pushAuth := "Bearer " + hex.EncodeToString(secret)

	revoker, err := bearer.NewRevoker(bearer.RevokerConfig{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	api, err := bearer.New(bearer.Config{Issuer: issuer, Audiences: []string{kcSSFAudience}, Revocation: revoker, HTTPClient: kc.client, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = api.Close() })
	receiver, err := ssf.New(ssf.Config{
		Transmitter:         bearer.Config{Issuer: issuer, Audiences: []string{pushURL}, HTTPClient: kc.client, Logger: logger},
		Revocations:         revoker,
		AuthorizationHeader: pushAuth,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = receiver.Close() })
	pushes := make(chan push, 16)
	mux := http.NewServeMux()
	mux.Handle("POST /ssf/events", recordPushes(receiver, pushes))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: requestTimeout}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	began := time.Now()
	userID := kc.setUpSSF(t, pushURL)
	stream := kc.createStream(t, pushURL, pushAuth)
	t.Logf("realm, clients and stream set up in %v; stream %s delivers %v", time.Since(began).Round(time.Millisecond), stream.ID, stream.EventsDelivered)
	for _, ev := range []string{ssf.SessionRevoked, ssf.CredentialChange} {
		if !slices.Contains(stream.EventsDelivered, ev) {
			t.Errorf("the stream does not deliver %s", ev)
		}
	}
	if !slices.Equal(stream.Aud, []string{pushURL}) {
		t.Errorf("stream aud %q, want the receiver's URL (client attribute ssf.streamAudience)", stream.Aud)
	}
	// The transmitter's metadata and keys are fetched now, as a receiver
	// that has been running would hold them.
	if err := receiver.Ready(ctx); err != nil {
		t.Fatal(err)
	}

	admin := kc.srv.Admin
	realm := "/admin/realms/" + kcSSFRealm
	t.Run("session-revoked takes back a client's tokens", func(t *testing.T) {
		cc := clientcredentials.Config{ClientID: kcSSFCaller, ClientSecret: kcTestSecret, TokenURL: kcTokenURL(issuer)}
		tok := kc.tokenWith(t, cc.Token)
		sub := claimsOf(t, tok)["sub"].(string)
		c := mustAccept(t, api, tok)
		t.Logf("accepted the token of %s (sub %s)", c.ClientID, sub)

		began := time.Now()
		if _, err := admin.Do(ctx, http.MethodPost, realm+"/users/"+sub+"/logout", nil, nil); err != nil {
			t.Fatal(err)
		}
		delay := waitRevoked(t, api, tok, ssf.SessionRevoked, began)
		p := nextPush(t, pushes)
		t.Logf("Keycloak %s: admin logout of the service account → push after %v → refused after %v (outbox drainer every %v)",
			keycloak.Version, p.at.Sub(began).Round(time.Millisecond), delay.Round(time.Millisecond), keycloak.OutboxDrainerInterval)
		header, claims := p.wantSET(t, pushURL, pushAuth, ssf.SessionRevoked)
		subID, _ := claims["sub_id"].(map[string]any)
		user, _ := subID["user"].(map[string]any)
		if subID["format"] != "complex" || user["format"] != "iss_sub" || user["iss"] != issuer || user["sub"] != sub {
			t.Errorf("sub_id %v: want a complex identifier whose user is iss_sub %s %s", subID, issuer, sub)
		}
		recordSET(t, "keycloak-26.7.3-session-revoked.json", header, claims,
			"Keycloak 26.7.3 CAEP session-revoked SET pushed when an administrator logs out all sessions of a client's service account user (POST /admin/realms/{realm}/users/{id}/logout): sub_id complex, its user iss_sub (the realm's issuer and the user id, the sub of the client's tokens), its session opaque \"ALL\"; initiating_entity user although an administrator acted; aud a string (the client attribute ssf.streamAudience); no exp; txn.",
			"realm "+kcSSFRealm+", stream of client "+kcSSFReceiver+", service account of "+kcSSFCaller)

		// Tokens obtained after the event are accepted: the rule covers
		// tokens issued up to the event's second and the next.
		after := time.Unix(int64(claims["iat"].(float64)), 0).Add(2 * time.Second)
		time.Sleep(time.Until(after))
		mustAccept(t, api, kc.tokenWith(t, cc.Token))
	})

	t.Run("credential-change takes back a user's tokens", func(t *testing.T) {
		pc := oauth2.Config{ClientID: kcSSFApp, ClientSecret: kcTestSecret, Endpoint: oauth2.Endpoint{TokenURL: kcTokenURL(issuer)}}
		password := func(ctx context.Context) (*oauth2.Token, error) {
			return pc.PasswordCredentialsToken(ctx, kcSSFUser, kcTestSecret)
		}
		tok := kc.tokenWith(t, password)
		if sub := claimsOf(t, tok)["sub"]; sub != userID {
			t.Fatalf("the user's token: sub %v, want %s", sub, userID)
		}
		mustAccept(t, api, tok)

		began := time.Now()
		reset := map[string]any{"type": "password", "value": kcTestSecret + "-2", "temporary": false}
		if _, err := admin.Do(ctx, http.MethodPut, realm+"/users/"+userID+"/reset-password", reset, nil); err != nil {
			t.Fatal(err)
		}
		delay := waitRevoked(t, api, tok, ssf.CredentialChange, began)
		p := nextPush(t, pushes)
		t.Logf("Keycloak %s: admin password reset → push after %v → refused after %v",
			keycloak.Version, p.at.Sub(began).Round(time.Millisecond), delay.Round(time.Millisecond))
		header, claims := p.wantSET(t, pushURL, pushAuth, ssf.CredentialChange)
		if subID, _ := claims["sub_id"].(map[string]any); subID["format"] != "iss_sub" || subID["iss"] != issuer || subID["sub"] != userID {
			t.Errorf("sub_id %v: want iss_sub %s %s", subID, issuer, userID)
		}
		recordSET(t, "keycloak-26.7.3-credential-change.json", header, claims,
			"Keycloak 26.7.3 CAEP credential-change SET pushed when an administrator resets a user's password (PUT /admin/realms/{realm}/users/{id}/reset-password): sub_id iss_sub (the realm's issuer and the user id); change_type update, credential_type password, Keycloak's own kc_credential_type (kc_credential_id and kc_credential_user_label too when they have a value).",
			"realm "+kcSSFRealm+", stream of client "+kcSSFReceiver+", user "+kcSSFUser)
	})
}

// mustAccept verifies tok, failing the test if the API refuses it.
func mustAccept(t *testing.T, api *bearer.Verifier, tok string) *bearer.Claims {
	t.Helper()
	c, err := api.Verify(t.Context(), tok)
	if err != nil {
		t.Fatalf("the API refuses the token: %v", err)
	}
	return c
}

// waitRevoked verifies tok until the API refuses it as revoked by an SSF
// event of type event, and returns how long after began that was. The
// transmitter retries a push with backoff; 30 s is ample.
func waitRevoked(t *testing.T, api *bearer.Verifier, tok, event string, began time.Time) time.Duration {
	t.Helper()
	deadline := began.Add(30 * time.Second)
	for {
		_, err := api.Verify(t.Context(), tok)
		if errors.Is(err, bearer.ErrRevoked) {
			delay := time.Since(began)
			var re *bearer.RevokedError
			if !errors.As(err, &re) || re.Rule.Source != "ssf" || re.Rule.Reason != event {
				t.Errorf("revoked by %+v, want a rule of source ssf for %s", re, event)
			}
			return delay
		}
		if err != nil {
			t.Fatalf("the token is refused, but not as revoked: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("the token is still accepted %v after the admin action", time.Since(began).Round(time.Millisecond))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// push is one delivery the receiver answered.
type push struct {
	at     time.Time
	auth   string
	ctype  string
	body   string
	status int
}

// recordPushes hands each push to h and reports it on pushes.
func recordPushes(h http.Handler, pushes chan<- push) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := push{at: time.Now(), auth: r.Header.Get("Authorization"), ctype: r.Header.Get("Content-Type")}
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		p.body = string(b)
		r.Body = io.NopCloser(bytes.NewReader(b))
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		p.status = sw.status
		select {
		case pushes <- p:
		default:
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// nextPush is the next push the receiver answered.
func nextPush(t *testing.T, pushes <-chan push) push {
	t.Helper()
	select {
	case p := <-pushes:
		return p
	case <-time.After(requestTimeout):
		t.Fatal("no push reached the receiver")
		return push{}
	}
}

// wantSET checks a push as RFC 8935 and the Shared Signals Framework have
// it, and that the receiver accepted it, and returns the SET's header and
// claims.
func (p push) wantSET(t *testing.T, aud, auth, event string) (header, claims map[string]any) {
	t.Helper()
	if p.status != http.StatusAccepted {
		t.Errorf("the receiver answered %d", p.status)
	}
	if p.auth != auth {
		t.Error("the push lacks the stream's Authorization header")
	}
	if p.ctype != "application/secevent+jwt" {
		t.Errorf("Content-Type %q", p.ctype)
	}
	header, claims = jwtPart(t, p.body, 0), jwtPart(t, p.body, 1)
	if header["typ"] != "secevent+jwt" || header["alg"] != "RS256" {
		t.Errorf("header %v: want typ secevent+jwt, alg RS256", header)
	}
	if claims["aud"] != aud {
		t.Errorf("aud %v, want %s", claims["aud"], aud)
	}
	if events, _ := claims["events"].(map[string]any); len(events) != 1 || events[event] == nil {
		t.Errorf("events %v, want %s alone", claims["events"], event)
	}
	return header, claims
}

// recordSET writes a SET Keycloak pushed (header and claims, never a
// signature) to testdata/secevents when BOUNCER_RECORD_FIXTURES=1, for
// core/ssf's unit tests.
func recordSET(t *testing.T, name string, header, claims map[string]any, description, source string) {
	t.Helper()
	if os.Getenv("BOUNCER_RECORD_FIXTURES") != "1" {
		return
	}
	header["kid"] = "set-by-test"
	write(t, filepath.Join("../../testdata/secevents", name), map[string]any{
		"description": description,
		"source": fmt.Sprintf("recorded %s from Keycloak %s (start-dev, --features=%s) by examples/integration TestKeycloakSharedSignals; %s",
			time.Now().UTC().Format("2006-01-02"), keycloak.Version, keycloak.Features, source),
		"header": header, "claims": claims,
	})
}

// tokenWith gets a token from Keycloak with get.
func (kc *keycloakRealm) tokenWith(t *testing.T, get func(context.Context) (*oauth2.Token, error)) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.WithValue(t.Context(), oauth2.HTTPClient, kc.client), requestTimeout)
	defer cancel()
	tok, err := get(ctx)
	if err != nil {
		t.Fatalf("Keycloak token: %v", err)
	}
	return tok.AccessToken
}

// setUpSSF creates realm services-ssf with the transmitter on (realm
// attribute ssf.transmitterEnabled), the receiver's client, the caller
// and a user, and returns the user's id.
func (kc *keycloakRealm) setUpSSF(t *testing.T, pushURL string) string {
	t.Helper()
	ctx := t.Context()
	admin := kc.srv.Admin
	if _, err := admin.Do(ctx, http.MethodPost, "/admin/realms", map[string]any{
		"realm": kcSSFRealm, "enabled": true,
		"attributes": map[string]string{"ssf.transmitterEnabled": "true"},
	}, nil); err != nil {
		t.Fatal(err)
	}
	realm := "/admin/realms/" + kcSSFRealm
	audience := map[string]any{
		"name": kcSSFAudience + "-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
		"config": map[string]string{"included.custom.audience": kcSSFAudience, "access.token.claim": "true"},
	}
	for _, c := range []map[string]any{
		{
			// The receiver: ssf.enabled makes it one; it may have Keycloak
			// push to its URL only (over http because the server allows
			// insecure push targets), names it as aud, and hears of every
			// user (default subjects ALL; Keycloak's default, NONE, sends
			// events only for users subscribed one by one).
			"clientId": kcSSFReceiver, "secret": kcTestSecret, "serviceAccountsEnabled": true,
			"standardFlowEnabled": false, "publicClient": false,
			"optionalClientScopes": []string{"ssf.manage", "ssf.read"},
			"attributes": map[string]string{
				"ssf.enabled":         "true",
				"ssf.validPushUrls":   pushURL,
				"ssf.streamAudience":  pushURL,
				"ssf.defaultSubjects": "ALL",
			},
		},
		{
			"clientId": kcSSFCaller, "secret": kcTestSecret, "serviceAccountsEnabled": true,
			"standardFlowEnabled": false, "publicClient": false, "protocolMappers": []any{audience},
		},
		{
			"clientId": kcSSFApp, "secret": kcTestSecret, "directAccessGrantsEnabled": true,
			"standardFlowEnabled": false, "publicClient": false, "protocolMappers": []any{audience},
		},
	} {
		if _, err := admin.Create(ctx, realm+"/clients", c); err != nil {
			t.Fatal(err)
		}
	}
	id, err := admin.Create(ctx, realm+"/users", map[string]any{
		"username": kcSSFUser, "enabled": true, "email": kcSSFUser + "@example.com", "emailVerified": true,
		"firstName": "Ada", "lastName": "Lovelace",
		"credentials": []any{map[string]any{"type": "password", "value": kcTestSecret, "temporary": false}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// ssfStream is what Keycloak answers about a stream it created.
type ssfStream struct {
	ID              string   `json:"stream_id"`
	Aud             []string `json:"aud"`
	EventsDelivered []string `json:"events_delivered"`
}

// createStream creates the receiver's stream the way a receiver does: it
// reads the transmitter's metadata, gets a token with scope ssf.manage,
// and POSTs the stream's configuration (push delivery to pushURL with the
// Authorization header auth) to the configuration endpoint.
func (kc *keycloakRealm) createStream(t *testing.T, pushURL, auth string) ssfStream {
	t.Helper()
	issuer := kc.srv.Issuer(kcSSFRealm)
	var md struct {
		Issuer                   string   `json:"issuer"`
		JWKSURI                  string   `json:"jwks_uri"`
		ConfigurationEndpoint    string   `json:"configuration_endpoint"`
		DeliveryMethodsSupported []string `json:"delivery_methods_supported"`
	}
	getJSONFrom(t, kc.client, issuer+"/.well-known/ssf-configuration", &md)
	if md.Issuer != issuer || md.ConfigurationEndpoint == "" || !slices.Contains(md.DeliveryMethodsSupported, "urn:ietf:rfc:8935") {
		t.Fatalf("Keycloak's transmitter metadata: %+v", md)
	}
	cc := clientcredentials.Config{ClientID: kcSSFReceiver, ClientSecret: kcTestSecret, TokenURL: kcTokenURL(issuer), Scopes: []string{"ssf.manage"}}
	tok := kc.tokenWith(t, cc.Token)
	body, _ := json.Marshal(map[string]any{
		"delivery":         map[string]any{"method": "urn:ietf:rfc:8935", "endpoint_url": pushURL, "authorization_header": auth},
		"events_requested": []string{ssf.SessionRevoked, ssf.CredentialChange, ssf.AccountDisabled, ssf.CredentialCompromise},
		"description":      "bouncer's receiver",
	})
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, md.ConfigurationEndpoint, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := kc.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("creating the stream: %s: %s", resp.Status, b)
	}
	var s ssfStream
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// tWriter writes a test's log lines.
type tWriter struct{ t *testing.T }

func (w tWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(b), "\n"))
	return len(b), nil
}
