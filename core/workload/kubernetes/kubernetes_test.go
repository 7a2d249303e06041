package kubernetes_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/core/internal/tokenfixture"
	"github.com/bouncer-go/bouncer/core/workload/kubernetes"
)

var bg = context.Background()

// newVerifier stands a bearertest issuer in for a cluster with a public
// issuer (as EKS, GKE and AKS have), configured by Config.Bearer.
func newVerifier(t *testing.T, audience string, edit ...func(*kubernetes.Config)) (*bearertest.Issuer, *bearer.Verifier) {
	t.Helper()
	iss, err := bearertest.NewIssuer(bearertest.WithTLS(), bearertest.WithAudience(audience))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	cfg := kubernetes.Config{Issuer: iss.URL(), Audiences: []string{audience}}
	for _, e := range edit {
		e(&cfg)
	}
	bc, err := cfg.Bearer()
	if err != nil {
		t.Fatal(err)
	}
	bc.HTTPClient, bc.Logger = iss.Client(), slog.New(slog.DiscardHandler)
	v, err := bearer.New(bc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return iss, v
}

func saToken(t *testing.T, iss *bearertest.Issuer, ns, name string, set ...map[string]any) string {
	t.Helper()
	claims := map[string]any{
		"client_id": nil, "sub": "system:serviceaccount:" + ns + ":" + name,
		"kubernetes.io": map[string]any{"namespace": ns, "serviceaccount": map[string]any{"name": name, "uid": "u"}},
	}
	for _, s := range set {
		for n, v := range s {
			claims[n] = v
		}
	}
	return iss.MustMint(t, claims, bearertest.WithHeader("typ", nil))
}

func refusal(t *testing.T, err error, sentinel error) *bearer.Error {
	t.Helper()
	var e *bearer.Error
	if !errors.Is(err, sentinel) || !errors.As(err, &e) || e.StatusCode() != 401 {
		t.Fatalf("err = %v; want a 401 %v", err, sentinel)
	}
	return e
}

func verifyErr(v *bearer.Verifier, tok string) error {
	_, err := v.Verify(bg, tok)
	return err
}

// The documented token shapes verify and read as documented.
func TestRecordedShapes(t *testing.T) {
	for _, fx := range tokenfixture.Load(t, "kubernetes-*.json") {
		t.Run(fx.Name, func(t *testing.T) {
			var want struct {
				ClientID       string            `json:"client_id"`
				Namespace      string            `json:"namespace"`
				ServiceAccount kubernetes.Object `json:"service_account"`
				Pod            kubernetes.Object `json:"pod"`
				Node           kubernetes.Object `json:"node"`
			}
			fx.Decode(t, &want)
			aud := fx.Claims["aud"].([]any)[0].(string)
			iss, v := newVerifier(t, aud)
			c, err := v.Verify(bg, fx.Mint(t, iss, time.Now(), map[string]any{"iss": iss.URL()}))
			if err != nil {
				t.Fatal(err)
			}
			k, err := kubernetes.ClaimsOf(c)
			if err != nil {
				t.Fatal(err)
			}
			if c.ClientID != want.ClientID || k.User() != want.ClientID || k.Namespace != want.Namespace ||
				k.ServiceAccount != want.ServiceAccount || k.Pod != want.Pod || k.Node != want.Node {
				t.Errorf("read ClientID %q, %+v; want %+v", c.ClientID, k, want)
			}
			if err := kubernetes.RequireServiceAccount(want.Namespace, want.ServiceAccount.Name).Authorize(c); err != nil {
				t.Error(err)
			}
		})
	}
}

// A legacy token is refused saying what it is, whoever signed it.
func TestLegacyTokenRefused(t *testing.T) {
	fx := tokenfixture.Load(t, "refused/kubernetes-legacy-secret.json")[0]
	iss, v := newVerifier(t, "orders")
	e := refusal(t, verifyErr(v, fx.Mint(t, iss, time.Now(), nil)), bearer.ErrIssuer)
	if !strings.Contains(e.Description, "legacy service-account token") {
		t.Errorf("description %q does not name the legacy token", e.Description)
	}
	// Even naming this issuer and this API, without exp it is refused.
	tok := fx.Mint(t, iss, time.Now(), map[string]any{"iss": iss.URL(), "aud": "orders"})
	refusal(t, verifyErr(v, tok), bearer.ErrMalformed)
}

// Tokens the API server would take are refused, whatever else they name.
func TestAPIServerAudienceRefused(t *testing.T) {
	iss, v := newVerifier(t, "orders", func(c *kubernetes.Config) { c.APIServerAudiences = []string{"vault-k8s"} })
	if _, err := v.Verify(bg, saToken(t, iss, "shop", "checkout")); err != nil {
		t.Fatal(err)
	}
	for _, aud := range [][]string{
		{"orders", iss.URL()},
		{"orders", "https://kubernetes.default.svc"},
		{"https://kubernetes.default.svc.cluster.local", "orders"},
		{"orders", "vault-k8s"},
	} {
		e := refusal(t, verifyErr(v, saToken(t, iss, "shop", "checkout", map[string]any{"aud": aud})), bearer.ErrClaim)
		if !strings.Contains(e.Description, "API server") {
			t.Errorf("aud %v: %q", aud, e.Description)
		}
	}
}

// sub and the kubernetes.io claim must name the same service account.
func TestTokenShape(t *testing.T) {
	iss, v := newVerifier(t, "orders")
	for name, set := range map[string]map[string]any{
		"sub of another account": {"sub": "system:serviceaccount:shop:admin"},
		"sub not a user name":    {"sub": "checkout"},
		"no kubernetes.io":       {"kubernetes.io": nil},
		"no namespace":           {"kubernetes.io": map[string]any{"serviceaccount": map[string]any{"name": "checkout"}}},
		"no service account":     {"kubernetes.io": map[string]any{"namespace": "shop"}},
		"kubernetes.io a string": {"kubernetes.io": "shop"},
		"colon in a name":        {"sub": "system:serviceaccount:shop:a:b", "kubernetes.io": map[string]any{"namespace": "shop:a", "serviceaccount": map[string]any{"name": "b"}}},
	} {
		t.Run(name, func(t *testing.T) {
			refusal(t, verifyErr(v, saToken(t, iss, "shop", "checkout", set)), bearer.ErrClaim)
		})
	}
}

func TestPolicies(t *testing.T) {
	iss, v := newVerifier(t, "orders")
	claims := func(ns, name string) *bearer.Claims {
		c, err := v.Verify(bg, saToken(t, iss, ns, name))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	checkout, admin, other := claims("shop", "checkout"), claims("shop", "admin"), claims("billing", "checkout")
	for _, c := range []struct {
		name string
		p    bearer.Policy
		c    *bearer.Claims
		want bool
	}{
		{"account", kubernetes.RequireServiceAccount("shop", "checkout"), checkout, true},
		{"other account", kubernetes.RequireServiceAccount("shop", "checkout"), admin, false},
		{"other namespace", kubernetes.RequireServiceAccount("shop", "checkout"), other, false},
		{"empty account", kubernetes.RequireServiceAccount("", ""), checkout, false},
		{"namespace", kubernetes.RequireNamespace("billing", "shop"), admin, true},
		{"other namespace", kubernetes.RequireNamespace("billing"), admin, false},
		{"no namespace", kubernetes.RequireNamespace(), admin, false},
		{"claims built by hand", kubernetes.RequireNamespace("shop"), &bearer.Claims{Subject: "system:serviceaccount:shop:x"}, false},
	} {
		err := c.p.Authorize(c.c)
		if (err == nil) != c.want {
			t.Errorf("%s: %v", c.name, err)
		}
		if err != nil && (!errors.Is(err, bearer.ErrInsufficientScope) || bearer.AsError(err).StatusCode() != 403) {
			t.Errorf("%s: %v is not a 403", c.name, err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	ok := kubernetes.Config{Issuer: "https://oidc.eks.eu-west-1.amazonaws.com/id/ABC", Audiences: []string{"orders"}}
	if _, err := ok.Bearer(); err != nil {
		t.Fatal(err)
	}
	for name, edit := range map[string]func(*kubernetes.Config){
		"no issuer":            func(c *kubernetes.Config) { c.Issuer = "" },
		"legacy issuer":        func(c *kubernetes.Config) { c.Issuer = kubernetes.LegacyIssuer },
		"http issuer":          func(c *kubernetes.Config) { c.Issuer = "http://kubernetes.default.svc" },
		"no audience":          func(c *kubernetes.Config) { c.Audiences = nil },
		"empty audience":       func(c *kubernetes.Config) { c.Audiences = []string{"orders", ""} },
		"issuer as audience":   func(c *kubernetes.Config) { c.Audiences = []string{c.Issuer} },
		"API server audience":  func(c *kubernetes.Config) { c.Audiences = []string{"https://kubernetes.default.svc"} },
		"configured audiences": func(c *kubernetes.Config) { c.APIServerAudiences = []string{"orders"} },
	} {
		c := ok
		edit(&c)
		if _, err := c.Bearer(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
