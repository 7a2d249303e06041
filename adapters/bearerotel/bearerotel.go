// Package bearerotel turns bouncer's events into OpenTelemetry metrics and
// span attributes: an Observer to set as bearer.Config.Observer.
//
// Every instrument is named under "bouncer." and every attribute is one of
// a few bounded sets, so that a flood of junk tokens adds counts, never
// series:
//
//	instrument                      kind       unit       attributes
//	bouncer.requests                counter    {request}  bouncer.outcome, bouncer.reason, bouncer.issuer, bouncer.cached
//	bouncer.request.duration        histogram  s          bouncer.outcome, bouncer.issuer, bouncer.cached
//	bouncer.cache.lookups           counter    {lookup}   bouncer.result (hit, miss), bouncer.issuer
//	bouncer.jwks.fetches            counter    {fetch}    bouncer.result (succeeded, failed), bouncer.issuer
//	bouncer.jwks.age                gauge      s          bouncer.issuer
//	bouncer.jwks.outage.duration    histogram  s          bouncer.issuer
//	bouncer.introspection.failures  counter    {failure}  bouncer.issuer
//	bouncer.shared_cache.failures   counter    {failure}  bouncer.issuer
//	bouncer.revocations             counter    {rule}     bouncer.revocation.kind, bouncer.revocation.source
//	bouncer.revocation_source.failures counter {failure}  bouncer.revocation.source
//
// bouncer.requests and bouncer.request.duration count decisions, one per
// Verify, VerifyRequest or Check, as package bearer reports them: a Check
// that reuses the claims an earlier middleware put in the context is a
// decision of its own. bouncer.outcome is accepted, refused (400, 401),
// denied (403) or unavailable (503); bouncer.reason is bearer.Reason of the
// refusal ("expired", "unknown_key"…) and is absent on acceptances.
//
// bouncer.issuer is the configured issuer (Config.Issuer) that package
// bearer names in every event, never what a token claims: a token under an
// issuer template (bearer.TenantPlaceholder) counts under the template, not
// under its tenant's issuer. A MultiVerifier's refusals name no single issuer: they carry all its
// issuers joined by spaces, one value per MultiVerifier. Client ids, key
// ids and tokens are never attributes of a metric.
//
// bouncer.cache.lookups counts decisions on a presented token, that is
// every decision but the missing_token and invalid_request refusals, which
// end before the token cache is reached: a hit when the answer came from
// the cache (Config.Cache), a miss otherwise. A Check that reuses claims
// from the context, a token refused for its length before the lookup, and
// every token while the cache is disabled count as misses.
//
// bouncer.revocations counts the revocation rules a bearer.Revoker received
// that take back tokens not taken back before (bearer.EventRevocationReceived;
// a rule held already is not counted): bouncer.revocation.kind is jti,
// client, subject or token, bouncer.revocation.source where the rule was
// made ("api", "cli", "ssf"…, as the rule says; rules read from Redis keep
// the source they were made at). Set the Observer as
// bearer.RevokerConfig.Observer for these. bouncer.revocation_source.failures
// counts failed reads of a revocation source (Redis), each of which the
// Revoker also logs; tokens revoked are refused with bouncer.reason
// "revoked" in bouncer.requests.
//
// bouncer.jwks.fetches counts attempts to read discovery and the key set;
// bouncer.jwks.age is the time since the last one that succeeded, per
// issuer, from the first success on: it grows while the issuer is
// unreachable, which is what to alert on well before Config.MaxStale.
// Static keys (Config.JWKS) are never fetched and have no age.
// bouncer.jwks.outage.duration records, when a fetch succeeds after failed
// ones (bearer.EventFetchRecovered), how long since the first of them: one
// measurement per outage, at its end.
//
// A MultiVerifier reports key events through each issuer's Config.Observer
// and decisions through the first one's: set the same Observer on all.
//
// Spans are annotated by ObserveContext, for package bearer to call with
// each decision and its request's context (see Observer.ObserveContext):
// the span already in the context gets bouncer.outcome, bouncer.reason,
// bouncer.issuer (the configured one that vouched, as in the metrics),
// bouncer.cached and, when known, bouncer.client_id, bouncer.kid,
// bouncer.alg and bouncer.required_scope (the scopes a denial asked for).
package bearerotel

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// instrumentationName names the instrumentation, as OpenTelemetry asks: the
// import path.
const instrumentationName = "github.com/bouncer-go/bouncer/adapters/bearerotel"

// Observer records bouncer's events as metrics. It is safe for concurrent
// use. One Observer serves any number of verifiers: make one per
// MeterProvider, since two would each report the key set ages they saw.
type Observer struct {
	requests      metric.Int64Counter
	duration      metric.Float64Histogram
	lookups       metric.Int64Counter
	fetches       metric.Int64Counter
	introspection metric.Int64Counter
	sharedCache   metric.Int64Counter
	outages       metric.Float64Histogram
	revocations   metric.Int64Counter
	revSources    metric.Int64Counter

	ages      ages
	decisions decisions
}

var _ bearer.Observer = (*Observer)(nil)

// Option configures an Observer.
type Option func(*config)

type config struct {
	provider metric.MeterProvider
	now      func() time.Time
}

// WithMeterProvider records into mp. The default is otel.GetMeterProvider()
// at the time of New.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.provider = mp }
}

// durationBuckets (seconds) span a cache hit (about a microsecond), a
// signature check (tens of microseconds) and a call to the issuer
// (milliseconds to the fetch timeout): OpenTelemetry's default buckets,
// made for milliseconds, would put every verification in the first one.
var durationBuckets = []float64{
	0.000001, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// outageBuckets (seconds) span a blip (a second) to the 12 hours of
// bearer's default MaxStale and beyond.
var outageBuckets = []float64{1, 5, 15, 30, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600}

// New creates the instruments. It fails only if the MeterProvider refuses
// them.
func New(opts ...Option) (*Observer, error) {
	c := config{now: time.Now}
	for _, o := range opts {
		o(&c)
	}
	if c.provider == nil {
		c.provider = otel.GetMeterProvider()
	}
	m := c.provider.Meter(instrumentationName)
	o := &Observer{ages: ages{now: c.now}}
	var errs [11]error
	o.requests, errs[0] = m.Int64Counter("bouncer.requests", metric.WithUnit("{request}"),
		metric.WithDescription("Decisions on requests and tokens, by outcome and reason."))
	o.duration, errs[1] = m.Float64Histogram("bouncer.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Time taken to decide on a request or token, key fetches and introspection included."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	o.lookups, errs[2] = m.Int64Counter("bouncer.cache.lookups", metric.WithUnit("{lookup}"),
		metric.WithDescription("Decisions on a presented token, by whether the token cache answered (hit) or not (miss)."))
	o.fetches, errs[3] = m.Int64Counter("bouncer.jwks.fetches", metric.WithUnit("{fetch}"),
		metric.WithDescription("Attempts to read the issuer's discovery document and key set."))
	o.introspection, errs[4] = m.Int64Counter("bouncer.introspection.failures", metric.WithUnit("{failure}"),
		metric.WithDescription("Calls to the introspection endpoint that failed; each request concerned got 503."))
	o.sharedCache, errs[5] = m.Int64Counter("bouncer.shared_cache.failures", metric.WithUnit("{failure}"),
		metric.WithDescription("Failed reads and writes of the shared introspection cache; the in-process cache carried on."))
	o.outages, errs[8] = m.Float64Histogram("bouncer.jwks.outage.duration", metric.WithUnit("s"),
		metric.WithDescription("Length of each run of failed key fetches, recorded when a fetch succeeds again."),
		metric.WithExplicitBucketBoundaries(outageBuckets...))
	o.revocations, errs[9] = m.Int64Counter("bouncer.revocations", metric.WithUnit("{rule}"),
		metric.WithDescription("Revocation rules received that take back tokens not taken back before."))
	o.revSources, errs[10] = m.Int64Counter("bouncer.revocation_source.failures", metric.WithUnit("{failure}"),
		metric.WithDescription("Failed reads of a revocation source; the rules held stay in force."))
	var ageGauge metric.Float64ObservableGauge
	ageGauge, errs[6] = m.Float64ObservableGauge("bouncer.jwks.age", metric.WithUnit("s"),
		metric.WithDescription("Time since the issuer's key set was last fetched successfully."))
	if errs[6] == nil {
		_, errs[7] = m.RegisterCallback(func(_ context.Context, obs metric.Observer) error {
			o.ages.each(func(issuer string, age time.Duration) {
				obs.ObserveFloat64(ageGauge, age.Seconds(), metric.WithAttributes(attribute.String("bouncer.issuer", issuer)))
			})
			return nil
		}, ageGauge)
	}
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return o, nil
}

// Observe records e. Package bearer calls it for key events, and hands
// decisions to ObserveContext.
func (o *Observer) Observe(e bearer.Event) { o.record(context.Background(), e) }

// ObserveContext records e, as Observe does, and when ctx holds a
// recording span, puts the decision on it (see annotate). ctx also lets an
// SDK with exemplars link the measurements to the trace.
//
// It implements bearer.ContextObserver, the optional interface through
// which package bearer hands decisions over with the request's context.
func (o *Observer) ObserveContext(ctx context.Context, e bearer.Event) {
	o.record(ctx, e)
	annotate(ctx, e)
}

func (o *Observer) record(ctx context.Context, e bearer.Event) {
	if isDecision(e.Kind) {
		o.decision(ctx, e)
		return
	}
	issuer := e.Issuer
	switch e.Kind {
	case bearer.EventFetchSucceeded:
		o.ages.fetched(issuer)
		o.fetches.Add(ctx, 1, metric.WithAttributes(attribute.String("bouncer.issuer", issuer), attribute.String("bouncer.result", "succeeded")))
	case bearer.EventFetchFailed:
		o.fetches.Add(ctx, 1, metric.WithAttributes(attribute.String("bouncer.issuer", issuer), attribute.String("bouncer.result", "failed")))
	case bearer.EventFetchRecovered:
		o.outages.Record(ctx, e.Age.Seconds(), metric.WithAttributes(attribute.String("bouncer.issuer", issuer)))
	case bearer.EventIntrospectionFailed:
		o.introspection.Add(ctx, 1, metric.WithAttributes(attribute.String("bouncer.issuer", issuer)))
	case bearer.EventSharedCacheFailed:
		o.sharedCache.Add(ctx, 1, metric.WithAttributes(attribute.String("bouncer.issuer", issuer)))
	case bearer.EventRevocationReceived:
		kind := "unknown"
		if e.Revocation != nil {
			kind = e.Revocation.Kind.String()
		}
		o.revocations.Add(ctx, 1, metric.WithAttributes(attribute.String("bouncer.revocation.kind", kind), attribute.String("bouncer.revocation.source", boundedSource(e.Source))))
	case bearer.EventRevocationSourceFailed:
		o.revSources.Add(ctx, 1, metric.WithAttributes(attribute.String("bouncer.revocation.source", boundedSource(e.Source))))
	}
}

func isDecision(k bearer.EventKind) bool {
	switch k {
	case bearer.EventAccepted, bearer.EventRefused, bearer.EventDenied, bearer.EventUnavailable:
		return true
	}
	return false
}

// boundedSource keeps the values of bouncer.revocation.source few: a rule's
// source is whatever made it, and a metric attribute must not take any
// value at all.
func boundedSource(s string) string {
	switch s {
	case "api", "cli", "ssf", "redis":
		return s
	case "":
		return "unknown"
	}
	return "other"
}
