package gateway

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/bouncer-go/bouncer/adapters/bearerotel"
)

// metrics are the gateway's OpenTelemetry metrics, served for scraping in
// the Prometheus format: bouncer's own (adapters/bearerotel: decisions by
// outcome and reason, key fetches and age, introspection and shared cache
// failures) and the gateway's checks by front door, route and status.
// One set lives as long as the process, across reloads, so that counters
// never restart and no instrument is registered twice.
type metrics struct {
	provider *sdkmetric.MeterProvider
	observer *bearerotel.Observer
	checks   metric.Int64Counter
	handler  http.Handler
}

func newMetrics() (*metrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	obs, err := bearerotel.New(bearerotel.WithMeterProvider(mp))
	if err != nil {
		return nil, err
	}
	checks, err := mp.Meter("github.com/bouncer-go/bouncer/gateway").Int64Counter("bouncer.gateway.checks",
		metric.WithUnit("{check}"), metric.WithDescription("Checks answered, by front door, route and status"))
	if err != nil {
		return nil, err
	}
	return &metrics{provider: mp, observer: obs, checks: checks, handler: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})}, nil
}

func (m *metrics) shutdown(ctx context.Context) error { return m.provider.Shutdown(ctx) }

// count records a check: the route is configured (a bounded set), the
// status one of a handful; nothing taken from the request.
func (g *Gateway) count(ctx context.Context, front string, v verdict) {
	if g.checks == nil {
		return
	}
	status := 200
	if !v.allowed {
		status = v.resp.Status
	}
	route := v.route
	if route == "" {
		route = "none"
	}
	g.checks.Add(ctx, 1, metric.WithAttributes(
		attribute.String("bouncer.front", front),
		attribute.String("bouncer.route", route),
		attribute.Int("http.response.status_code", status)))
}
