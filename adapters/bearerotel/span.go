package bearerotel

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// annotate puts a decision on the span in ctx, the request's own (from
// otelhttp, otelgrpc…), as attributes rather than a span of its own: the
// decision is known only once made, and a trace search by outcome, reason
// or client is what an operator runs. Spans are single requests, so the
// client and key ids that metrics leave out belong here. The span's
// status is left to the instrumentation that owns the span. A later
// decision in the same request (a second Check) overwrites the first.
//
// A refused token's kid and alg are whatever its sender wrote, so they are
// clipped to maxHeaderValue bytes.
func annotate(ctx context.Context, e bearer.Event) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() || !isDecision(e.Kind) {
		return
	}
	attrs := []attribute.KeyValue{
		attribute.String("bouncer.outcome", e.Kind.String()),
		attribute.String("bouncer.issuer", e.Issuer),
		attribute.Bool("bouncer.cached", e.Cached),
	}
	if e.Reason != "" {
		attrs = append(attrs, attribute.String("bouncer.reason", e.Reason))
	}
	if e.ClientID != "" {
		attrs = append(attrs, attribute.String("bouncer.client_id", e.ClientID))
	}
	if e.KeyID != "" {
		attrs = append(attrs, attribute.String("bouncer.kid", clip(e.KeyID)))
	}
	if e.Alg != "" {
		attrs = append(attrs, attribute.String("bouncer.alg", clip(e.Alg)))
	}
	if len(e.Scope) > 0 {
		attrs = append(attrs, attribute.StringSlice("bouncer.required_scope", e.Scope))
	}
	span.SetAttributes(attrs...)
}

// maxHeaderValue bounds a header value on a span: real key ids (GUIDs,
// thumbprints) and algorithm names are far shorter.
const maxHeaderValue = 128

func clip(s string) string {
	if len(s) <= maxHeaderValue {
		return s
	}
	return strings.ToValidUTF8(s[:maxHeaderValue], "")
}
