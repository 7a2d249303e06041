package bearer

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// FuzzVerify signs fuzzed headers and payloads with a real issuer key and
// compares Verify's decision with a plain reference check written here
// from the rules bouncer documents. A token is accepted exactly when the
// reference accepts it, and then with the claims the reference reads.
func FuzzVerify(f *testing.F) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"), bearertest.WithKeysFor("EdDSA"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(iss.Close)
	key, _ := iss.CurrentKey("EdDSA")
	now := time.Unix(1_800_000_000, 0)
	v, err := New(Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatal(err)
	}
	claims := func(extra string) []byte {
		return []byte(`{"iss":"` + iss.URL() + `","aud":"country-api","exp":1800000300,"iat":1800000000` + extra + `}`)
	}
	hdr := `{"alg":"EdDSA","kid":"` + key.ID() + `","typ":"at+jwt"}`
	for _, rec := range recordedTokens(f) {
		var c map[string]any
		_ = json.Unmarshal(rec.claims, &c)
		c["iss"], c["exp"], c["iat"], c["nbf"] = iss.URL(), 1800000300, 1800000000, 1799999000
		b, _ := json.Marshal(c)
		f.Add([]byte(hdr), b)
	}
	for _, seed := range [][2]string{
		{hdr, string(claims(""))},
		{`{"alg":"EdDSA"}`, string(claims(`,"scope":"a b"`))},
		{`{"alg":"none","ALG":"EdDSA","kid":"` + key.ID() + `"}`, string(claims(""))},
		{hdr, string(claims(`,"aud":null`))},
		{hdr, string(claims(`,"typ":"ID"`))},
		{hdr, string(claims(`,"cnf":{"jkt":"x"}`))},
		{`{"alg":"EdDSA","typ":"application/JWT"}`, string(claims(`,"nbf":1800000059`))},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, header, payload []byte) {
		tok, err := iss.MintPayload(payload, bearertest.WithAlg("EdDSA"), bearertest.WithRawHeader(header))
		if err != nil {
			t.Skip(err)
		}
		got, err := v.Verify(context.Background(), tok)
		want, why := referenceVerify(tok, header, payload, iss.URL(), key.ID(), now)
		if (err == nil) != (want != nil) {
			t.Fatalf("Verify err = %v; reference: %s\nheader %q\npayload %q", err, why, header, payload)
		}
		if err != nil {
			if _, ok := err.(*Error); !ok || errorIs(err, ErrIssuerUnavailable) {
				t.Fatalf("refusal %v is not a token refusal", err)
			}
			return
		}
		if got.Issuer != want.Iss || got.Subject != want.Sub || !slices.Equal(got.Audience, want.Aud) || !got.Expiry.Equal(want.Exp.Time) {
			t.Fatalf("claims %+v; reference %+v", got, want)
		}
	})
}

// referenceVerify accepts a token signed with the issuer's EdDSA key (kid)
// as the documentation says Verify does, and returns its claims, or nil and
// why not.
func referenceVerify(tok string, header, payload []byte, issuer, kid string, now time.Time) (*payload, string) {
	const leeway = 60 * time.Second
	if len(tok) > defaultMaxTokenBytes {
		return nil, "too long"
	}
	if !oneReading(header) {
		return nil, "header has no single reading"
	}
	var h map[string]json.RawMessage
	_ = json.Unmarshal(header, &h)
	text := func(name string) (string, bool) {
		raw, ok := h[name]
		if !ok {
			return "", true
		}
		var s string
		return s, raw[0] == '"' && json.Unmarshal(raw, &s) == nil
	}
	alg, ok1 := text("alg")
	k, ok2 := text("kid")
	typ, ok3 := text("typ")
	switch {
	case !ok1 || !ok2 || !ok3:
		return nil, "a header member is not a string"
	case h["enc"] != nil || h["crit"] != nil || h["b64"] != nil:
		return nil, "enc, crit or b64 header"
	case alg != "EdDSA":
		return nil, "alg"
	case k != "" && k != kid:
		return nil, "unknown kid"
	case !slices.Contains([]string{"", "jwt", "application/jwt", "at+jwt", "application/at+jwt"}, strings.ToLower(typ)):
		return nil, "typ"
	}
	if !oneReading(payload) {
		return nil, "payload has no single reading"
	}
	p, err := referencePayload(payload)
	switch {
	case err != nil:
		return nil, "claim types: " + err.Error()
	case p.Iss != issuer:
		return nil, "iss"
	case strings.EqualFold(p.Typ, "id"), strings.EqualFold(p.Typ, "refresh"), strings.EqualFold(p.Typ, "offline"), strings.EqualFold(p.Typ, "logout"):
		return nil, "typ claim"
	case p.IDTokenMark != "" && !strings.EqualFold(p.Typ, "bearer") && !strings.EqualFold(p.Typ, "dpop"):
		return nil, "ID token claims"
	case len(p.Cnf) > 0:
		return nil, "cnf"
	case !p.Exp.Set || !now.Before(p.Exp.Add(leeway)):
		return nil, "exp"
	case p.Nbf.Set && now.Add(leeway).Before(p.Nbf.Time):
		return nil, "nbf"
	case p.Iat.Set && now.Add(leeway).Before(p.Iat.Time):
		return nil, "iat"
	case !slices.Contains(p.Aud, "country-api"):
		return nil, "aud"
	}
	return p, ""
}
