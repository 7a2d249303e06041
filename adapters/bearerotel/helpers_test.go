package bearerotel_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bouncer-go/bouncer/adapters/bearerotel"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

var (
	bg    = context.Background()
	quiet = slog.New(slog.DiscardHandler)
)

// newObserver returns an Observer recording into a reader the test
// collects from.
func newObserver(t testing.TB, opts ...bearerotel.Option) (*bearerotel.Observer, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(bg) })
	obs, err := bearerotel.New(append([]bearerotel.Option{bearerotel.WithMeterProvider(mp)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return obs, reader
}

func newIssuer(t *testing.T, opts ...bearertest.Option) *bearertest.Issuer {
	t.Helper()
	iss, err := bearertest.NewIssuer(append([]bearertest.Option{bearertest.WithAudience("country-api")}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	return iss
}

func newVerifier(t *testing.T, iss *bearertest.Issuer, obs bearer.Observer, edit ...func(*bearer.Config)) *bearer.Verifier {
	t.Helper()
	cfg := bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: quiet, Observer: obs}
	for _, e := range edit {
		e(&cfg)
	}
	v, err := bearer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func request(auth string) bearer.Request {
	r := httptest.NewRequest("GET", "/country", nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return bearer.HTTPRequest(r)
}

// collect returns the metrics recorded so far, by name.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(bg, &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// counts returns a counter's points as attribute set → value, checking it
// is a monotonic sum in unit.
func counts(t *testing.T, ms map[string]metricdata.Metrics, name, unit string) map[string]int64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		t.Fatalf("no %s", name)
	}
	if m.Unit != unit {
		t.Errorf("%s: unit %q, want %q", name, m.Unit, unit)
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok || !sum.IsMonotonic {
		t.Fatalf("%s is a %T, not a counter", name, m.Data)
	}
	out := map[string]int64{}
	for _, p := range sum.DataPoints {
		out[key(p.Attributes)] = p.Value
	}
	return out
}

// wantCounts checks a counter's points, every one of them.
func wantCounts(t *testing.T, ms map[string]metricdata.Metrics, name, unit string, want map[string]int64) {
	t.Helper()
	got := counts(t, ms, name, unit)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s{%s} = %d, want %d", name, k, got[k], n)
		}
	}
	for k, n := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s{%s} = %d, unexpected", name, k, n)
		}
	}
}

// set names an attribute set the way points are keyed.
func set(kv ...attribute.KeyValue) string { return key(attribute.NewSet(kv...)) }

func key(s attribute.Set) string { return s.Encoded(attribute.DefaultEncoder()) }

func outcome(o string) attribute.KeyValue { return attribute.String("bouncer.outcome", o) }
func reason(r string) attribute.KeyValue  { return attribute.String("bouncer.reason", r) }
func issuer(i string) attribute.KeyValue  { return attribute.String("bouncer.issuer", i) }
func cached(c bool) attribute.KeyValue    { return attribute.Bool("bouncer.cached", c) }
func result(r string) attribute.KeyValue  { return attribute.String("bouncer.result", r) }
