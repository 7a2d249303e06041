package bearerotel

import (
	"context"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// decisions keeps the attribute sets of the decisions seen, built once
// each: building a set costs several times more than recording into it,
// and decisions are on every request's path. There are few of them
// (outcomes × reasons × issuers × cached), and past maxSets the sets are
// built afresh rather than kept.
type decisions struct {
	sets sync.Map // decisionKey → *decisionSets
	n    atomic.Int32
}

const maxSets = 1024

type decisionKey struct {
	kind           bearer.EventKind
	reason, issuer string
	cached         bool
}

type decisionSets struct {
	requests, duration, lookup metric.MeasurementOption // lookup is nil for a request without a token
}

func (d *decisions) of(k decisionKey) *decisionSets {
	if s, ok := d.sets.Load(k); ok {
		return s.(*decisionSets)
	}
	s := newDecisionSets(k)
	if d.n.Load() < maxSets {
		if _, loaded := d.sets.LoadOrStore(k, s); !loaded {
			d.n.Add(1)
		}
	}
	return s
}

func newDecisionSets(k decisionKey) *decisionSets {
	outcome := attribute.String("bouncer.outcome", k.kind.String())
	iss := attribute.String("bouncer.issuer", k.issuer)
	cached := attribute.Bool("bouncer.cached", k.cached)
	s := &decisionSets{duration: metric.WithAttributeSet(attribute.NewSet(outcome, iss, cached))}
	if k.reason == "" {
		s.requests = metric.WithAttributeSet(attribute.NewSet(outcome, iss, cached))
	} else {
		s.requests = metric.WithAttributeSet(attribute.NewSet(outcome, attribute.String("bouncer.reason", k.reason), iss, cached))
	}
	// These refusals end before the token cache is reached.
	if k.reason != "missing_token" && k.reason != "invalid_request" {
		result := "miss"
		if k.cached {
			result = "hit"
		}
		s.lookup = metric.WithAttributeSet(attribute.NewSet(attribute.String("bouncer.result", result), iss))
	}
	return s
}

func (o *Observer) decision(ctx context.Context, e bearer.Event) {
	s := o.decisions.of(decisionKey{e.Kind, e.Reason, e.Issuer, e.Cached})
	o.requests.Add(ctx, 1, s.requests)
	o.duration.Record(ctx, e.Duration.Seconds(), s.duration)
	if s.lookup != nil {
		o.lookups.Add(ctx, 1, s.lookup)
	}
}
