package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

func TestCheckAccepted(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"sub": "orders", "scope": "orders:read orders:write"})
	r := bouncer(t, "", checkArgs(iss, "--scope", "orders:read", tok)...)
	r.wants(t, exitOK,
		`"sub": "orders"`, `"typ": "at+jwt"`,
		`✓ accepted (200): client "orders", scopes "orders:read", "orders:write"`)
	for _, name := range stepNames {
		r.wantStep(t, name, "✓")
	}
	r.wantStep(t, "discovery", "✓", iss.DiscoveryURL(), iss.URL())
	r.wantStep(t, "keys", "✓", "1 usable of 1 published at "+iss.JWKSURL())
	r.wantStep(t, "scopes", "✓", "asked scope orders:read: granted")
	signature := tok[strings.LastIndex(tok, ".")+1:]
	if strings.Contains(r.stdout, signature) {
		t.Errorf("the report shows the token's signature:\n%s", r.stdout)
	}
}

func TestCheckExpired(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix()})
	r := bouncer(t, "", checkArgs(iss, tok)...)
	r.wants(t, exitRefused, "✗ refused (401 invalid_token, reason expired): the token expired at ")
	r.wantStep(t, "signature", "✓")
	r.wantStep(t, "times", "✗", "expired 1h ago", "leeway 1m", "hint: the token expired 1h ago", "get a new token")
	r.wantStep(t, "audience", "·", "not checked")
}

func TestCheckWrongAudienceListsTheTokens(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"aud": []string{"account", "billing-api"}})
	r := bouncer(t, "", checkArgs(iss, tok)...)
	r.wants(t, exitRefused, "reason audience): the token is not meant for this API")
	r.wantStep(t, "times", "✓")
	r.wantStep(t, "audience", "✗",
		`set --audience to one of the token's aud values: "account", "billing-api"`,
		"Keycloak: add an audience mapper")
	r.wantStep(t, "scopes", "·")
}

func TestCheckUnknownKid(t *testing.T) {
	iss := newIssuer(t)
	stranger, err := bearertest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	tok := iss.MustMint(t, nil, bearertest.WithKey(stranger))
	current, _ := iss.CurrentKey("RS256")
	r := bouncer(t, "", checkArgs(iss, tok)...)
	r.wants(t, exitRefused, "reason unknown_key): no signing key of the issuer matches the token's key id")
	r.wantStep(t, "keys", "✓", "1 usable of 1 published")
	r.wantStep(t, "key", "✗", stranger.ID(), "not among the usable keys: \""+current.ID()+"\"", "rotated its keys")
	r.wantStep(t, "signature", "·")
}

// A key that the issuer publishes but bouncer skips is named as the cause.
func TestCheckKeyPublishedButSkipped(t *testing.T) {
	iss := newIssuer(t)
	key, _ := iss.CurrentKey("RS256")
	jwk := key.PublicJWK()
	jwk["use"] = "enc"
	other, _ := bearertest.NewKey("ES256")
	usable := other.PublicJWK()
	iss.SetJWKSHandler(jwksHandler(bearertest.JWKSet{Keys: []map[string]any{jwk, usable}}))
	r := bouncer(t, "", checkArgs(iss, iss.MustMint(t, nil))...)
	r.wants(t, exitRefused)
	r.wantStep(t, "keys", "✓", "1 usable of 2 published", "skipped: kid \""+key.ID()+"\" (use is \"enc\", not sig)")
	r.wantStep(t, "key", "✗", "the issuer publishes kid \""+key.ID()+"\", but bouncer skips that key")
}

func TestCheckWrongIssuer(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"iss": iss.URL() + "/"})
	r := bouncer(t, "", checkArgs(iss, tok)...)
	r.wants(t, exitRefused, "reason issuer): the token was not issued by "+iss.URL())
	r.wantStep(t, "issuer", "✗", `the token's iss "`+iss.URL()+`/"; --issuer "`+iss.URL()+`"`, "trailing slash", "run with --issuer "+iss.URL()+"/")
	r.wantStep(t, "discovery", "·", "not checked")
	if n := iss.DiscoveryFetches(); n != 0 {
		t.Errorf("a token of another issuer caused %d discovery fetches", n)
	}
}

func TestCheckIssuerDown(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, nil)
	iss.SetDown(true)
	r := bouncer(t, "", checkArgs(iss, tok)...)
	r.wants(t, exitUnavailable, "✗ not judged (503, reason issuer_unavailable): the issuer's signing keys cannot be fetched")
	r.wantStep(t, "issuer", "✓")
	r.wantStep(t, "discovery", "✗", "HTTP 503", "hint: bouncer could not fetch the issuer's keys")
	r.wantStep(t, "keys", "·")
}

func TestCheckIDToken(t *testing.T) {
	iss := newIssuer(t)
	for name, tok := range map[string]string{
		"nonce claim":   iss.MustMint(t, map[string]any{"nonce": "n-0S6_WzA2Mj"}),
		"Keycloak typ":  iss.MustMint(t, map[string]any{"typ": "ID"}),
		"typ header":    iss.MustMint(t, nil, bearertest.WithHeader("typ", "id_token+jwt")),
		"at_hash claim": iss.MustMint(t, map[string]any{"at_hash": "77QmUPtjPfzWtF2AnpK9RQ"}),
	} {
		t.Run(name, func(t *testing.T) {
			r := bouncer(t, "", checkArgs(iss, tok)...)
			r.wants(t, exitRefused, "reason type)")
			step := "kind"
			if name == "typ header" {
				step = "type"
				r.wantStep(t, "algorithm", "✓")
			}
			r.wantStep(t, step, "✗", "ID token", "not its id_token")
			r.wantStep(t, "issuer", "·")
		})
	}
}

func TestCheckDPoPBound(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"cnf": map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}})
	r := bouncer(t, "", checkArgs(iss, tok)...)
	r.wants(t, exitRefused, "reason sender_constrained): the token is bound to a DPoP key (cnf.jkt)")
	r.wantStep(t, "kind", "✗", "cnf.jkt", "without DPoP")
}

func TestCheckAlgorithm(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, nil, bearertest.WithHeader("alg", "HS256"))
	r := bouncer(t, "", checkArgs(iss, tok)...)
	r.wants(t, exitRefused, "reason algorithm): the token's signing algorithm is not accepted")
	r.wantStep(t, "algorithm", "✗", `alg "HS256"`, "never none or HMAC")
}

func TestCheckNotAJWT(t *testing.T) {
	iss := newIssuer(t)
	r := bouncer(t, "", checkArgs(iss, "2YotnFZFEjr1zCsicMWpAA")...)
	r.wants(t, exitRefused, "reason malformed): the token is not a compact JWS", "(not shown: no dots")
	r.wantStep(t, "format", "✗", "opaque token", "Config.Introspection")
}

func TestCheckPolicyDenied(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"scope": "orders:read", "roles": []string{"Reader"}})
	r := bouncer(t, "", checkArgs(iss, "--scope", "orders:write", tok)...)
	r.wants(t, exitDenied, "✗ denied (403 insufficient_scope, reason insufficient_scope): the token lacks the scope orders:write")
	r.wantStep(t, "audience", "✓")
	r.wantStep(t, "scopes", "✗", `scopes "orders:read", roles "Reader"; asked scope orders:write`)

	bouncer(t, "", checkArgs(iss, "--role", "Reader", tok)...).wants(t, exitOK)
	bouncer(t, "", checkArgs(iss, "--role", "Admin", tok)...).wants(t, exitDenied, "the token lacks the role Admin")
}

func TestCheckTokenFromStdin(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, nil)
	bouncer(t, tok+"\n", checkArgs(iss, "-")...).wants(t, exitOK, "✓ accepted")
	bouncer(t, "Bearer "+tok, checkArgs(iss)...).wants(t, exitOK, "✓ accepted")
	r := bouncer(t, "", checkArgs(iss)...)
	if r.code != exitUsage || !strings.Contains(r.stderr, "no token") {
		t.Errorf("empty stdin: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Flags may follow the token, as people type them.
func TestCheckFlagsAfterToken(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, nil)
	bouncer(t, "", "check", tok, "--issuer", iss.URL(), "--audience", bearertest.DefaultAudience).wants(t, exitOK, "✓ accepted")
}

func TestCheckJSON(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, map[string]any{"aud": "billing-api"})
	r := bouncer(t, "", checkArgs(iss, "--json", tok)...)
	r.wants(t, exitRefused)
	var got checkResult
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("%v:\n%s", err, r.stdout)
	}
	if got.Accepted || got.Reason != "audience" || got.Status != 401 || got.Description != "the token is not meant for this API" {
		t.Errorf("result %+v", got)
	}
	var header, claims map[string]any
	if json.Unmarshal(got.Header, &header) != nil || header["alg"] != "RS256" || json.Unmarshal(got.Claims, &claims) != nil || claims["aud"] != "billing-api" {
		t.Errorf("header %s, claims %s", got.Header, got.Claims)
	}
	if len(got.Steps) != len(stepNames) {
		t.Fatalf("%d steps, want %d", len(got.Steps), len(stepNames))
	}
	for _, s := range got.Steps {
		switch s.Name {
		case "audience":
			if s.OK || !s.Checked || !strings.Contains(s.Hint, `"billing-api"`) {
				t.Errorf("audience step %+v", s)
			}
		case "revocation", "scopes":
			if s.OK || s.Checked {
				t.Errorf("%s step %+v, want not checked", s.Name, s)
			}
		default:
			if !s.OK || !s.Checked || s.Hint != "" {
				t.Errorf("step %+v, want passed", s)
			}
		}
	}
}

func TestCheckUsage(t *testing.T) {
	iss := newIssuer(t)
	tok := iss.MustMint(t, nil)
	for name, args := range map[string][]string{
		"no issuer":      {"check", "--audience", "a", tok},
		"no audience":    {"check", "--issuer", iss.URL(), tok},
		"two tokens":     checkArgs(iss, tok, tok),
		"leeway":         checkArgs(iss, "--leeway", "1h", tok),
		"unknown flag":   checkArgs(iss, "--audiences", "x", tok),
		"plain http":     {"check", "--issuer", "http://sso.example.com", "--audience", "a", tok},
		"issuer not URL": {"check", "--issuer", "sso", "--audience", "a", tok},
	} {
		t.Run(name, func(t *testing.T) {
			r := bouncer(t, "", args...)
			if r.code != exitUsage || r.stderr == "" || r.stdout != "" {
				t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
			}
		})
	}
}
