package bearer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

type parentKey struct{}

// RequestWithClaims is r.WithContext(NewContext(r.Context(), c)) in every
// way a handler can tell: the claims are found, the parent's values,
// deadline and cancellation reach through, and r is left as it was.
func TestRequestWithClaims(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	claims, err := v.Check(bg, withAuth("Bearer "+iss.MustMint(t, readOnlyClaims)))
	if err != nil {
		t.Fatal(err)
	}
	parent, cancel := context.WithCancelCause(context.WithValue(context.Background(), parentKey{}, "kept"))
	r := httptest.NewRequestWithContext(parent, http.MethodGet, "/countries", nil)
	r.Header.Set("X-Kept", "yes")

	got := bearer.RequestWithClaims(r, claims)
	if got == r || r.Context() != parent {
		t.Fatal("RequestWithClaims changed the request it was given")
	}
	if c, ok := bearer.FromContext(r.Context()); ok || c != nil {
		t.Fatal("the original request's context carries claims")
	}
	ctx := got.Context()
	if c, ok := bearer.FromContext(ctx); !ok || c.Subject != claims.Subject {
		t.Fatalf("FromContext = %+v, %v", c, ok)
	}
	if ctx.Value(parentKey{}) != "kept" || got.Header.Get("X-Kept") != "yes" || got.URL.Path != "/countries" {
		t.Fatal("the copy lost what the request and its context carried")
	}
	// Check takes the claims from there, as from NewContext's context.
	if again, err := v.Check(ctx, withAuth("Bearer junk")); err != nil || again != claims {
		t.Fatalf("Check on the request's context: %v, %v", again, err)
	}
	if s := ctx.(interface{ String() string }).String(); !strings.Contains(s, "bearer claims") || strings.Contains(s, claims.Subject) {
		t.Fatalf("String() = %q", s)
	}
	stop := errors.New("client went away")
	cancel(stop)
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) || context.Cause(ctx) != stop {
		t.Fatalf("cancellation: %v, cause %v", ctx.Err(), context.Cause(ctx))
	}
	// A context derived from it is cancelled with it, and still carries
	// the claims.
	child, stopChild := context.WithCancel(ctx)
	defer stopChild()
	<-child.Done()
	if _, ok := bearer.FromContext(child); !ok {
		t.Fatal("a derived context lost the claims")
	}
	if c, ok := bearer.FromContext(bearer.RequestWithClaims(r, nil).Context()); ok || c != nil {
		t.Fatalf("nil claims: %v, %v", c, ok)
	}
}

// What a middleware adds to hand the claims on is one allocation: the
// context and the request copy are made together.
func TestRequestWithClaimsAllocatesOnce(t *testing.T) {
	if bearertest.RaceDetector() {
		t.Skip("allocation counts vary under the race detector; make test runs this without it")
	}
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	claims, err := v.Check(bg, withAuth("Bearer "+iss.MustMint(t, readOnlyClaims)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	var sink *http.Request
	if n := testing.AllocsPerRun(100, func() { sink = bearer.RequestWithClaims(r, claims) }); n != 1 {
		t.Errorf("RequestWithClaims allocates %v times; want 1", n)
	}
	_ = sink
}

// NewContext refuses a nil parent, as context.WithValue does.
func TestNewContextNilParent(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("NewContext(nil, …) did not panic")
		}
	}()
	_ = bearer.NewContext(nil, nil) // the nil parent is the point
}
