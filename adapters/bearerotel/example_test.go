package bearerotel_test

import (
	"context"
	"fmt"
	"log"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/bouncer-go/bouncer/adapters/bearerotel"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// An application sets the Observer on its Verifier; here a manual reader
// stands for its Prometheus or OTLP exporter.
func Example() {
	reader := sdkmetric.NewManualReader()
	obs, err := bearerotel.New(bearerotel.WithMeterProvider(sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))))
	if err != nil {
		log.Fatal(err)
	}

	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		log.Fatal(err)
	}
	defer iss.Close()
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Observer: obs})
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := iss.Mint(nil)
	_, _ = v.Verify(context.Background(), tok)
	_, _ = v.Verify(context.Background(), tok)
	_, _ = v.Verify(context.Background(), "not-a-token")

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(context.Background(), &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if m.Name != "bouncer.requests" {
			continue
		}
		for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
			o, _ := p.Attributes.Value("bouncer.outcome")
			r, _ := p.Attributes.Value("bouncer.reason")
			c, _ := p.Attributes.Value("bouncer.cached")
			fmt.Printf("%s reason=%q cached=%v: %d\n", o.AsString(), r.AsString(), c.AsBool(), p.Value)
		}
	}
	// Unordered output:
	// accepted reason="" cached=false: 1
	// accepted reason="" cached=true: 1
	// refused reason="malformed" cached=false: 1
}
