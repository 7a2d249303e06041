package bearerotel_test

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// Package bearer hands each decision to ObserveContext with the request's
// context, whose span gets the decision.
func TestSpanAnnotation(t *testing.T) {
	obs, reader := newObserver(t)
	spans := tracetest.NewSpanRecorder()
	tracer := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans)).Tracer("test")
	iss := newIssuer(t)
	v := newVerifier(t, iss, obs)
	key, _ := iss.CurrentKey("RS256")
	tok := iss.MustMint(t, map[string]any{"client_id": "billing", "scope": "country.read"})
	stranger, _ := bearertest.NewKey("ES256")
	forged := iss.MustMint(t, nil, bearertest.WithKey(stranger.WithID(strings.Repeat("k", 500))))

	check := func(auth string, policies ...bearer.Policy) map[attribute.Key]attribute.Value {
		ctx, span := tracer.Start(bg, "GET /country")
		_, _ = v.Check(ctx, request(auth), policies...)
		span.End()
		ended := spans.Ended()
		got := map[attribute.Key]attribute.Value{}
		for _, kv := range ended[len(ended)-1].Attributes() {
			got[kv.Key] = kv.Value
		}
		return got
	}

	a := check("Bearer "+tok, bearer.RequireScope("country.read"))
	want := map[attribute.Key]string{
		"bouncer.outcome": "accepted", "bouncer.issuer": iss.URL(), "bouncer.client_id": "billing",
		"bouncer.kid": key.ID(), "bouncer.alg": "RS256",
	}
	for k, w := range want {
		if a[k].AsString() != w {
			t.Errorf("accepted: %s = %q, want %q", k, a[k].Emit(), w)
		}
	}
	if _, ok := a["bouncer.reason"]; ok || a["bouncer.cached"].Type() != attribute.BOOL {
		t.Errorf("accepted: %v", a)
	}

	d := check("Bearer "+tok, bearer.RequireScope("country.write"))
	if d["bouncer.outcome"].AsString() != "denied" || d["bouncer.reason"].AsString() != "insufficient_scope" ||
		strings.Join(d["bouncer.required_scope"].AsStringSlice(), " ") != "country.write" || !d["bouncer.cached"].AsBool() {
		t.Errorf("denied: %v", d)
	}

	r := check("Bearer " + forged)
	if r["bouncer.outcome"].AsString() != "refused" || r["bouncer.reason"].AsString() != "unknown_key" || len(r["bouncer.kid"].AsString()) != 128 {
		t.Errorf("refused: %v", r)
	}
	if _, ok := r["bouncer.client_id"]; ok {
		t.Error("a refused token's client_id is on the span")
	}

	wantCounts(t, collect(t, reader), "bouncer.requests", "{request}", map[string]int64{
		set(outcome("accepted"), issuer(iss.URL()), cached(false)):                            1,
		set(outcome("denied"), reason("insufficient_scope"), issuer(iss.URL()), cached(true)): 1,
		set(outcome("refused"), reason("unknown_key"), issuer(iss.URL()), cached(false)):      1,
	})
}

// Without a span, or with one that does not record, only metrics are
// recorded.
func TestNoSpan(t *testing.T) {
	obs, reader := newObserver(t)
	iss := newIssuer(t)
	v := newVerifier(t, iss, obs)
	mustVerify(t, v, iss.MustMint(t, nil))
	unsampled := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.NeverSample())).Tracer("test")
	ctx, span := unsampled.Start(bg, "GET /country")
	if _, err := v.Verify(ctx, iss.MustMint(t, nil)); err != nil {
		t.Fatal(err)
	}
	span.End()
	wantCounts(t, collect(t, reader), "bouncer.requests", "{request}", map[string]int64{
		set(outcome("accepted"), issuer(iss.URL()), cached(false)): 2,
	})
}
