package bearerotel_test

import (
	"errors"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// Revocations received are counted by kind and source, once each; a
// revocation source's failures are counted; a revoked token's refusal has
// reason "revoked".
func TestRevocations(t *testing.T) {
	obs, reader := newObserver(t)
	iss := newIssuer(t)
	rv, err := bearer.NewRevoker(bearer.RevokerConfig{Logger: quiet, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	v := newVerifier(t, iss, obs, func(c *bearer.Config) { c.Revocation = rv })
	tok := iss.MustMint(t, map[string]any{"client_id": "billing"})
	mustVerify(t, v, tok)
	rules := []bearer.Revocation{
		{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: "billing", Before: time.Now().Add(time.Second), Source: "cli"},
		{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "j1", Source: "ssf"},
		{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "j2", Source: "ssf"},
		{Kind: bearer.RevokeSubjectBefore, Issuer: iss.URL(), Value: "u", Before: time.Now(), Source: "made up"},
	}
	for range 2 { // the second time, nothing is new
		if err := rv.Revoke(bg, rules...); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Verify(bg, tok); bearer.Reason(err) != "revoked" {
		t.Fatalf("a revoked token: %v", err)
	}
	rv.SourceFailed("redis", errors.New("down"), false)
	rv.SourceFailed("redis", errors.New("down"), false)

	ms := collect(t, reader)
	kind := func(k string) attribute.KeyValue { return attribute.String("bouncer.revocation.kind", k) }
	source := func(s string) attribute.KeyValue { return attribute.String("bouncer.revocation.source", s) }
	wantCounts(t, ms, "bouncer.revocations", "{rule}", map[string]int64{
		set(kind("client"), source("cli")):    1,
		set(kind("jti"), source("ssf")):       2,
		set(kind("subject"), source("other")): 1,
	})
	wantCounts(t, ms, "bouncer.revocation_source.failures", "{failure}", map[string]int64{set(source("redis")): 2})
	requests := counts(t, ms, "bouncer.requests", "{request}")
	if requests[set(outcome("refused"), reason("revoked"), issuer(iss.URL()), cached(false))] != 1 {
		t.Fatalf("requests %v", requests)
	}
}
