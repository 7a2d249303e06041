package ssf

import (
	"testing"
	"time"
)

// FuzzParseSET reads any claims as a SET's: it never panics, and what it
// accepts holds what the receiver relies on: a jti within bounds, one to
// maxEvents events of non-empty types, subject identifiers with the
// members their format requires, nesting one level at most, and subjects
// that targetOf can map or explain.
func FuzzParseSET(f *testing.F) {
	for _, s := range []string{
		`{"iss":"https://sso.example.com/realms/x","jti":"j1","iat":1764650000,"aud":"r","txn":"t","sub_id":{"format":"complex","user":{"format":"iss_sub","iss":"https://sso.example.com/realms/x","sub":"5e8f"},"session":{"format":"opaque","id":"287f"}},"events":{"https://schemas.openid.net/secevent/caep/event-type/session-revoked":{"initiating_entity":"admin","event_timestamp":1764650000}}}`,
		`{"jti":"j2","sub_id":{"format":"iss_sub","iss":"i","sub":"s"},"events":{"https://schemas.openid.net/secevent/caep/event-type/credential-change":{"change_type":"update","credential_type":"password"}}}`,
		`{"jti":"j3","sub_id":{"format":"jwt_id","iss":"i","jti":"x"},"events":{"https://schemas.openid.net/secevent/risc/event-type/credential-compromise":{}}}`,
		`{"jti":"j4","events":{"https://schemas.openid.net/secevent/risc/event-type/account-disabled":{"subject":{"format":"opaque","id":"u"},"reason":"hijacking"}}}`,
		`{"jti":"j5","sub_id":{"format":"aliases","identifiers":[{"format":"email","email":"a@b"},{"format":"opaque","id":"u"}]},"events":{"urn:x":{}}}`,
		`{"jti":"j6","toe":1.5,"sub_id":{"format":"complex","application":{"format":"opaque","id":"billing"}},"events":{"urn:a":{},"urn:b":{"event_timestamp":-1}}}`,
		`{"jti":"","events":{}}`, `{"events":[]}`, `[]`, `{"jti":"j","sub_id":{"format":"complex","user":{"format":"complex"}},"events":{"u":{}}}`,
		`{"jti":"j","sub_id":{"format":"aliases","identifiers":[]},"events":{"u":{}}}`, `{"jti":"j","events":{"u":{"event_timestamp":"1"}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		s, err := parseSET(payload, time.Unix(1764650000, 0))
		if err != nil {
			return
		}
		if s.JTI == "" || len(s.JTI) > maxJTI || len(s.Events) == 0 || len(s.Events) > maxEvents {
			t.Fatalf("accepted jti %q and %d events", s.JTI, len(s.Events))
		}
		for _, e := range s.Events {
			if e.Type == "" {
				t.Fatal("accepted an event without type")
			}
			if e.Subject != nil {
				checkSubject(t, e.Subject, true)
				if tg, why := targetOf(e.Subject, "https://default"); why == "" && (tg.issuer == "" || tg.value == "" || tg.kind == 0) {
					t.Fatalf("target %+v of %+v", tg, e.Subject)
				}
			}
		}
	})
}

func checkSubject(t *testing.T, s *subjectID, top bool) {
	t.Helper()
	switch s.Format {
	case "":
		t.Fatal("accepted a subject without format")
	case "opaque":
		if s.ID == "" {
			t.Fatal("opaque without id")
		}
	case "iss_sub":
		if s.Iss == "" || s.Sub == "" {
			t.Fatal("iss_sub without iss or sub")
		}
	case "jwt_id":
		if s.Iss == "" || s.JTI == "" {
			t.Fatal("jwt_id without iss or jti")
		}
	case "complex", "aliases":
		if !top {
			t.Fatalf("a %s subject nested", s.Format)
		}
		if len(s.Members)+len(s.Aliases) == 0 || len(s.Members) > maxIDMembers || len(s.Aliases) > maxAliases {
			t.Fatalf("a %s subject of %d members, %d aliases", s.Format, len(s.Members), len(s.Aliases))
		}
		for _, m := range s.Members {
			checkSubject(t, m, false)
		}
		for _, a := range s.Aliases {
			checkSubject(t, a, false)
		}
	}
}
