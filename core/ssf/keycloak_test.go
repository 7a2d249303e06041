package ssf_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// recordedSET is a SET a real transmitter pushed, as testdata/secevents
// keeps it: header and claims, never a signature.
type recordedSET struct {
	Description string         `json:"description"`
	Source      string         `json:"source"`
	Header      map[string]any `json:"header"`
	Claims      map[string]any `json:"claims"`
}

// The SETs Keycloak 26.7.3's transmitter pushed in the live test
// (examples/integration TestKeycloakSharedSignals), signed again by the
// in-process transmitter in their recorded shape (its issuer in place of
// Keycloak's loopback URL, iat and event_timestamp now, aud this
// receiver), take back the tokens of the user they name.
func TestKeycloakSETs(t *testing.T) {
	files, err := filepath.Glob("../../testdata/secevents/keycloak-*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded Keycloak SETs: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			var rec recordedSET
			b, err := os.ReadFile(file)
			if err == nil {
				err = json.Unmarshal(b, &rec)
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec.Header["typ"] != "secevent+jwt" {
				t.Fatalf("recorded header %v", rec.Header)
			}
			r := newRig(t, nil)
			set, sub, event := resign(t, r, rec.Claims)
			tok := r.iss.MustMint(t, map[string]any{"sub": sub})
			if err := r.accepts(t, tok); err != nil {
				t.Fatal(err)
			}
			status, _, body := r.push(t, set)
			wantAccepted(t, status, body)
			err = r.accepts(t, tok)
			var re *bearer.RevokedError
			if !errors.As(err, &re) || re.Rule.Kind != bearer.RevokeSubjectBefore || re.Rule.Value != sub || re.Rule.Reason != event {
				t.Fatalf("after Keycloak's %s: %v (rule %+v)", event, err, re)
			}
		})
	}
}

// resign signs a recorded SET's claims with the rig's transmitter, and
// returns it with the user its sub_id names and its one event type.
func resign(t *testing.T, r *rig, claims map[string]any) (set, sub, event string) {
	t.Helper()
	recorded, _ := claims["iss"].(string)
	if recorded == "" {
		t.Fatal("the recorded SET has no iss")
	}
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(strings.ReplaceAll(string(b), recorded, r.iss.URL())), &c); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	c["iat"], c["aud"] = now, receiverAudience
	events, _ := c["events"].(map[string]any)
	if len(events) != 1 {
		t.Fatalf("events %v", c["events"])
	}
	for typ, e := range events {
		event = typ
		if m, ok := e.(map[string]any); ok {
			if _, ok := m["event_timestamp"]; ok {
				m["event_timestamp"] = now
			}
		}
	}
	subID, _ := c["sub_id"].(map[string]any)
	if user, ok := subID["user"].(map[string]any); ok {
		subID = user
	}
	if subID["format"] != "iss_sub" || subID["iss"] != r.iss.URL() {
		t.Fatalf("sub_id %v: not an iss_sub of the transmitter", c["sub_id"])
	}
	sub, _ = subID["sub"].(string)
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	set, err = r.iss.MintPayload(payload, bearertest.WithHeader("typ", "secevent+jwt"))
	if err != nil {
		t.Fatal(err)
	}
	return set, sub, event
}
