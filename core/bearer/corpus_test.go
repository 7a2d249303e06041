package bearer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// The committed seed corpus of the fuzz targets (testdata/fuzz) is built
// from the recorded real-issuer token shapes and key sets, so that fuzzing
// starts from what Keycloak, Entra ID, Spring Authorization Server and
// oidc-provider really send. `go test` runs every file of it as a
// regression case; to rebuild it after the fixtures change:
//
//	BOUNCER_WRITE_CORPUS=1 go test -run TestWriteFuzzCorpus ./bearer/

type recordedToken struct {
	name           string
	header, claims []byte
}

func recordedTokens(tb testing.TB) []recordedToken {
	tb.Helper()
	files, err := filepath.Glob("../../testdata/tokens/*.json")
	if err != nil || len(files) == 0 {
		tb.Fatalf("no token fixtures: %v", err)
	}
	var out []recordedToken
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		var fx struct {
			Header json.RawMessage `json:"header"`
			Claims json.RawMessage `json:"claims"`
		}
		if err := json.Unmarshal(b, &fx); err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		out = append(out, recordedToken{strings.TrimSuffix(filepath.Base(f), ".json"), compact(tb, fx.Header), compact(tb, fx.Claims)})
	}
	return out
}

func compact(tb testing.TB, raw json.RawMessage) []byte {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return b
}

// jwksSeeds are recorded and generated key sets: Keycloak's (a signing and
// an encryption key), and one key of every algorithm bouncer accepts.
func jwksSeeds(tb testing.TB) [][]byte {
	kc, err := os.ReadFile("../../testdata/jwks/keycloak-realm.json")
	if err != nil {
		tb.Fatal(err)
	}
	var keys []any
	for i, alg := range []string{"RS256", "PS384", "ES256", "ES384", "ES512", "EdDSA"} {
		k, err := bearertest.NewKey(alg)
		if err != nil {
			tb.Fatal(err)
		}
		jwk := k.PublicJWK()
		if i < 2 { // as Entra's shared key sets name each key's issuer
			jwk["issuer"] = []string{"https://login.microsoftonline.com/{tenantid}/v2.0", "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0"}[i]
		}
		keys = append(keys, jwk)
	}
	all, _ := json.Marshal(map[string]any{"keys": keys})
	return [][]byte{kc, all, []byte(`{"keys":[]}`), []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}`)}
}

func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("BOUNCER_WRITE_CORPUS") == "" {
		t.Skip("set BOUNCER_WRITE_CORPUS=1 to rebuild testdata/fuzz")
	}
	b64 := base64.RawURLEncoding.EncodeToString
	for _, rec := range recordedTokens(t) {
		write(t, "FuzzParsePayload", rec.name, fmt.Sprintf("[]byte(%q)", rec.claims))
		write(t, "FuzzParseHeader", rec.name, fmt.Sprintf("string(%q)", b64(rec.header)))
		write(t, "FuzzParseJWS", rec.name, fmt.Sprintf("string(%q)", b64(rec.header)+"."+b64(rec.claims)+"."+b64([]byte("signature"))))
	}
	for i, set := range jwksSeeds(t) {
		write(t, "FuzzParseJWKS", fmt.Sprintf("set-%d", i), fmt.Sprintf("[]byte(%q)", set))
	}
}

func write(t *testing.T, target, name, value string) {
	dir := filepath.Join("testdata", "fuzz", target)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	body := "go test fuzz v1\n" + value + "\n"
	if err := os.WriteFile(filepath.Join(dir, "recorded-"+name), []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
