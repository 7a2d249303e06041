package bearer_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// entraKeys serves iss's keys as Entra's shared key sets do: each key
// names the issuer whose tokens it signs, issuerOf(kid).
func entraKeys(iss *bearertest.Issuer, issuerOf func(kid string) any) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		set := iss.JWKS()
		for _, k := range set.Keys {
			if v := issuerOf(k["kid"].(string)); v != nil {
				k["issuer"] = v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	})
}

const otherTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

// A key that names an issuer verifies only tokens of that issuer, with the
// token's tenant put in: a tenant's own signing key (or the consumer
// accounts' key) cannot vouch for another tenant's tokens, though every
// tenant's issuer fits the template.
func TestEntraKeyIssuerBindsTheKeyToItsTenant(t *testing.T) {
	iss := newIssuer(t, bearertest.WithTenants())
	shared, _ := iss.CurrentKey("RS256")
	own, err := bearertest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	iss.PublishKey(own)
	iss.SetJWKSHandler(entraKeys(iss, func(kid string) any {
		if kid == own.ID() {
			return iss.TenantIssuer(otherTenant) // a key of that tenant alone
		}
		return iss.URL() // the template, as Entra's common keys say
	}))
	v := newVerifier(t, iss)
	exp := time.Now().Add(time.Hour).Unix()
	mint := func(tenant string, k *bearertest.Key) string {
		return iss.MustMint(t, map[string]any{"tid": tenant, "exp": exp}, bearertest.WithKey(k))
	}
	for _, tenant := range []string{bearertest.DefaultTenant, otherTenant} {
		if err := verifyErr(v, mint(tenant, shared)); err != nil {
			t.Fatalf("tenant %s, template key: %v", tenant, err)
		}
	}
	if err := verifyErr(v, mint(otherTenant, own)); err != nil {
		t.Fatalf("the key's own tenant: %v", err)
	}
	e := wantRefusal(t, verifyErr(v, mint(bearertest.DefaultTenant, own)), bearer.ErrIssuer, 401)
	if !strings.Contains(e.Description, "signing key") {
		t.Fatalf("description %q does not say the key is another issuer's", e.Description)
	}

	// A single-tenant verifier trusts its tenant's issuer exactly; a key of
	// another tenant cannot vouch for it either.
	single := newVerifier(t, iss, func(c *bearer.Config) {
		c.Issuer = iss.TenantIssuer(bearertest.DefaultTenant)
		c.JWKSURL = iss.JWKSURL()
	})
	if err := verifyErr(single, mint(bearertest.DefaultTenant, shared)); err != nil {
		t.Fatalf("single tenant, template key: %v", err)
	}
	wantRefusal(t, verifyErr(single, mint(bearertest.DefaultTenant, own)), bearer.ErrIssuer, 401)
}

// A key whose issuer member is not a non-empty string is left out.
func TestEntraKeyWithUnusableIssuerIsSkipped(t *testing.T) {
	for name, value := range map[string]any{"empty": "", "number": 5, "array": []string{"x"}} {
		t.Run(name, func(t *testing.T) {
			r := newFaultRig(t)
			good, _ := r.iss.CurrentKey("RS256")
			odd, _ := bearertest.NewKey("RS256")
			r.iss.PublishKey(odd)
			r.iss.SetJWKSHandler(entraKeys(r.iss, func(kid string) any {
				if kid == odd.ID() {
					return value
				}
				return nil
			}))
			if err := verifyErr(r.v, r.iss.MustMint(t, nil, bearertest.WithKey(good))); err != nil {
				t.Fatal(err)
			}
			if ev := r.ev.wait(t, bearer.EventKeySkipped); ev.KeyID != odd.ID() {
				t.Fatalf("skipped %q; want %q", ev.KeyID, odd.ID())
			}
			wantRefusal(t, verifyErr(r.v, r.iss.MustMint(t, nil, bearertest.WithKey(odd))), bearer.ErrUnknownKey, 401)
		})
	}
}

// The recorded Entra tokens, re-signed by an Entra-shaped tenant issuer
// whose keys name the issuer template, verify under it, and read idtyp:
// only a token that says idtyp "app" is app-only, and only it passes
// RequireAppOnly.
func TestEntraAppOnly(t *testing.T) {
	iss := newIssuer(t, bearertest.WithTenants())
	iss.SetJWKSHandler(entraKeys(iss, func(string) any { return iss.URL() }))
	files, _ := filepath.Glob("../../testdata/tokens/entra-*.json")
	if len(files) < 3 {
		t.Fatalf("found %d Entra fixtures", len(files))
	}
	apps := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var fx tokenFixture
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &fx); err != nil {
				t.Fatal(err)
			}
			claims := fx.Claims
			tid, _ := claims["tid"].(string)
			now := time.Now().Unix()
			claims["iss"], claims["iat"], claims["nbf"], claims["exp"] = iss.TenantIssuer(tid), now, now, now+300
			claims["jti"], claims["client_id"] = nil, nil
			tok := iss.MustMint(t, claims, bearertest.WithHeader("typ", fx.Header["typ"]))
			v := newVerifier(t, iss, func(c *bearer.Config) { c.Audiences = fx.Normalised.Audience[:1] })
			c, err := v.Verify(bg, tok)
			if err != nil {
				t.Fatal(err)
			}
			want := claims["idtyp"] == "app"
			if c.AppOnly() != want {
				t.Fatalf("AppOnly() = %v with idtyp %v", c.AppOnly(), claims["idtyp"])
			}
			err = bearer.RequireAppOnly().Authorize(c)
			if want {
				apps++
				if err != nil {
					t.Fatalf("RequireAppOnly refused an app-only token: %v", err)
				}
				return
			}
			wantRefusal(t, err, bearer.ErrInsufficientScope, 403)
		})
	}
	if apps == 0 {
		t.Fatal("no fixture carries idtyp app")
	}
}

// idtyp is read as the string it is: "user", another type, or an escaped
// spelling are not "app" unless they decode to it.
func TestAppOnlyReadsIdtypExactly(t *testing.T) {
	iss := newIssuer(t)
	v := newVerifier(t, iss)
	for _, tc := range []struct {
		payload string
		want    bool
	}{
		{`"idtyp":"app"`, true},
		{`"idtyp":"\u0061pp"`, true},
		{`"idtyp":"user"`, false},
		{`"idtyp":"App"`, false},
		{`"idtyp":["app"]`, false},
		{`"idtyp":null`, false},
		{`"typ_":"app"`, false},
	} {
		exp := time.Now().Add(time.Hour).Unix()
		tok := mustMintPayload(t, iss, []byte(`{"iss":"`+iss.URL()+`","aud":"`+testAudience+`","exp":`+jsonInt(exp)+`,`+tc.payload+`}`))
		c, err := v.Verify(bg, tok)
		if err != nil {
			t.Fatalf("%s: %v", tc.payload, err)
		}
		if c.AppOnly() != tc.want {
			t.Errorf("%s: AppOnly() = %v", tc.payload, c.AppOnly())
		}
	}
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
