package integration

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
)

// Rotation under load, against Keycloak: while an API (net/http, with
// bouncer's shortest key refresh, 30 s) serves a steady load of requests
// with fresh tokens, a new rsa-generated key provider with a higher
// priority is added through the admin REST API, the old key is made
// passive, then deleted. No request whose token's key the realm still
// publishes may fail; the deleted key's tokens are refused once the API
// has refreshed its keys.
func TestKeycloakKeyRotationUnderLoad(t *testing.T) {
	kc := sharedKeycloak(t)
	const realm = "rotation"
	ctx := t.Context()
	admin := kc.srv.Admin
	if _, err := admin.Do(ctx, http.MethodPost, "/admin/realms", map[string]any{"realm": realm, "enabled": true}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Create(ctx, "/admin/realms/"+realm+"/clients", map[string]any{
		"clientId": kcCountryClient, "secret": kcTestSecret, "publicClient": false, "serviceAccountsEnabled": true,
		"standardFlowEnabled": false, "directAccessGrantsEnabled": false,
		"protocolMappers": []any{map[string]any{
			"name": "audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
			"config": map[string]string{"included.custom.audience": kcAudience, "access.token.claim": "true"},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	issuer := kc.srv.Issuer(realm)

	bc := configFromEnv(t, map[string]string{"ISSUER_URL": issuer, "AUDIENCE": kcAudience}).BearerConfig(quietLogger())
	bc.KeyMaxAge = 30 * time.Second // the least bouncer allows
	bc.RefetchCooldown = time.Second
	v, err := bearer.New(bc)
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(bearerhttp.New(v).Authenticate(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	t.Cleanup(api.Close)

	// Fresh tokens, four a second, each with the kid that signed it.
	type signed struct{ token, kid string }
	var latest atomic.Pointer[signed]
	fetch := func() (signed, error) {
		cc := kcConfig(issuer, kcCountryClient, kcTestSecret)
		c, cancel := context.WithTimeout(context.WithValue(ctx, oauth2.HTTPClient, kc.client), requestTimeout)
		defer cancel()
		tok, err := cc.Token(c)
		if err != nil {
			return signed{}, err
		}
		return signed{tok.AccessToken, fmt.Sprint(headerField(t, tok.AccessToken, "kid"))}, nil
	}
	first, err := fetch()
	if err != nil {
		t.Fatal(err)
	}
	latest.Store(&first)
	oldToken := first // signed by the realm's first key, kept for the end

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var fetchErrs atomic.Int64
	wg.Go(func() {
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if s, err := fetch(); err != nil {
					fetchErrs.Add(1)
				} else {
					latest.Store(&s)
				}
			}
		}
	})

	// The load: 200 requests a second from 4 workers, half with the
	// freshest token, half with the first key's token for as long as the
	// realm publishes that key.
	type result struct {
		phase  string
		kid    string
		status int
	}
	var (
		mu       sync.Mutex
		results  []result
		phase    atomic.Value
		oldInUse atomic.Bool
	)
	phase.Store("1 one key")
	oldInUse.Store(true)
	hc := &http.Client{Timeout: requestTimeout}
	const rate, workers = 200, 4
	for w := range workers {
		wg.Go(func() {
			tick := time.NewTicker(time.Second * workers / rate)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				s := *latest.Load()
				if (i+w)%2 == 1 && oldInUse.Load() {
					s = oldToken
				}
				p := phase.Load().(string)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api.URL, nil)
				req.Header.Set("Authorization", "Bearer "+s.token)
				status := 0
				if resp, err := hc.Do(req); err == nil {
					status = resp.StatusCode
					resp.Body.Close()
				}
				mu.Lock()
				results = append(results, result{p, s.kid, status})
				mu.Unlock()
			}
		})
	}

	realmComponents := "/admin/realms/" + realm + "/components"
	var comps []struct {
		ID         string              `json:"id"`
		Name       string              `json:"name"`
		ProviderID string              `json:"providerId"`
		Config     map[string][]string `json:"config"`
		ParentID   string              `json:"parentId"`
	}
	if _, err := admin.Do(ctx, http.MethodGet, realmComponents+"?type=org.keycloak.keys.KeyProvider", nil, &comps); err != nil {
		t.Fatal(err)
	}
	var old map[string]any
	var oldID, realmID string
	for _, c := range comps {
		if c.ProviderID == "rsa-generated" {
			oldID, realmID = c.ID, c.ParentID
		}
	}
	if oldID == "" {
		t.Fatalf("no rsa-generated key provider in %+v", comps)
	}
	if _, err := admin.Do(ctx, http.MethodGet, realmComponents+"/"+oldID, nil, &old); err != nil {
		t.Fatal(err)
	}

	time.Sleep(4 * time.Second)
	phase.Store("2 new key added")
	newID, err := admin.Create(ctx, realmComponents, map[string]any{
		"name": "rsa-rotated", "providerId": "rsa-generated", "providerType": "org.keycloak.keys.KeyProvider", "parentId": realmID,
		"config": map[string][]string{"priority": {"200"}, "keySize": {"2048"}, "active": {"true"}, "enabled": {"true"}, "algorithm": {"RS256"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	phase.Store("3 old key passive")
	cfg := old["config"].(map[string]any)
	cfg["active"] = []string{"false"}
	if _, err := admin.Do(ctx, http.MethodPut, realmComponents+"/"+oldID, old, nil); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	oldInUse.Store(false)
	time.Sleep(200 * time.Millisecond) // let requests with the old token finish
	phase.Store("4 old key deleted")
	if _, err := admin.Do(ctx, http.MethodDelete, realmComponents+"/"+oldID, nil, nil); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()

	// The old key's token: accepted until the API refreshes its keys,
	// refused after.
	var refusedAfter time.Duration
	var acceptedAfterDelete int
	for time.Since(deleted) < 2*bc.KeyMaxAge+15*time.Second {
		r := getAuth(t, api.URL, "Bearer "+oldToken.token)
		if r.status == http.StatusUnauthorized {
			refusedAfter = time.Since(deleted)
			break
		}
		acceptedAfterDelete++
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()

	type count struct{ ok, failed int }
	byPhase := map[string]*count{}
	byKid := map[string]int{}
	total, failed := 0, 0
	for _, r := range results {
		c := byPhase[r.phase]
		if c == nil {
			c = &count{}
			byPhase[r.phase] = c
		}
		total++
		byKid[r.kid]++
		if r.status == http.StatusNoContent {
			c.ok++
		} else {
			c.failed++
			failed++
		}
	}
	for _, p := range []string{"1 one key", "2 new key added", "3 old key passive", "4 old key deleted"} {
		if c := byPhase[p]; c != nil {
			t.Logf("phase %-18s %5d requests, %d failed", p, c.ok+c.failed, c.failed)
		}
	}
	t.Logf("%d requests, %d failed, %d tokens' keys %v; %d token fetch errors; new key provider %s", total, failed, len(byKid), byKid, fetchErrs.Load(), newID)
	t.Logf("the deleted key's token: accepted %d times after the deletion, refused %v after it", acceptedAfterDelete, refusedAfter.Round(100*time.Millisecond))
	if failed != 0 {
		t.Errorf("%d requests with tokens of published keys failed", failed)
	}
	if len(byKid) < 2 {
		t.Errorf("the load saw keys %v; want the old and the new", byKid)
	}
	if refusedAfter == 0 {
		t.Errorf("the deleted key's token was still accepted %v after the deletion", time.Since(deleted).Round(time.Second))
	}
	if total < 20*rate/2 {
		t.Errorf("only %d requests in the run; the load did not run", total)
	}
}
