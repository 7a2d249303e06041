package spiffe_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/internal/tokenfixture"
	"github.com/bouncer-go/bouncer/core/workload/spiffe"
)

func TestParseBundle(t *testing.T) {
	recorded, err := os.ReadFile(filepath.Join(tokenfixture.Dir(), "..", "jwks", "spiffe-bundle.json"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := spiffe.ParseBundle(recorded)
	if err != nil {
		t.Fatalf("the recorded bundle: %v", err)
	}
	if b.Keys != 1 || !b.HasSequence || b.Sequence != 2 || b.RefreshHint != 5*time.Minute {
		t.Errorf("recorded bundle read as %+v", b)
	}

	good := map[string]spiffe.Bundle{
		`{"keys":[]}`: {},
		`{"keys":[],"spiffe_sequence":18446744073709551615,"spiffe_refresh_hint":0}`:                                       {Sequence: 1<<64 - 1, HasSequence: true},
		`{"keys":[{"use":"x509-svid","kty":"EC"},{"kty":"EC"},{"use":"jwt-svid","kid":"a"},{"use":"wit-svid"}],"other":1}`: {Keys: 1},
		` {"keys":[{"use":"jwt-svid","kid":"a"},{"use":"jwt-svid","kid":"b"}]} `:                                           {Keys: 2},
	}
	for doc, want := range good {
		got, err := spiffe.ParseBundle([]byte(doc))
		if err != nil || got != want {
			t.Errorf("ParseBundle(%s) = %+v, %v; want %+v", doc, got, err, want)
		}
	}
	bad := []string{
		``, `null`, `[]`, `{}`, `{"keys":null}`, `{"keys":{}}`, `{"KEYS":[]}`, `{"keys":[],"keys":[]}`,
		`{"keys":[]}}`, `{"keys":[]} x`, `{"keys":[1]}`, `{"keys":[null]}`, `{"keys":[{"use":"jwt-svid"}]}`,
		`{"keys":[{"use":"jwt-svid","kid":""}]}`, `{"keys":[{"use":"jwt-svid","kid":1}]}`,
		`{"keys":[{"use":"jwt-svid","kid":"a","kid":"b"}]}`, `{"keys":[],"spiffe_sequence":-1}`,
		`{"keys":[],"spiffe_sequence":1.0}`, `{"keys":[],"spiffe_sequence":1e2}`, `{"keys":[],"spiffe_sequence":"1"}`,
		`{"keys":[],"spiffe_sequence":18446744073709551616}`, `{"keys":[],"spiffe_refresh_hint":-5}`,
		`{"keys":[],"spiffe_refresh_hint":null}`, `{"keys":[],"spiffe_sequence":true}`,
		`{"keys":[]` + strings.Repeat(" ", 1<<20) + `}`,
	}
	for _, doc := range bad {
		if got, err := spiffe.ParseBundle([]byte(doc)); err == nil {
			t.Errorf("ParseBundle(%.60s) = %+v; want an error", doc, got)
		} else if !errors.Is(err, spiffe.ErrBundle) {
			t.Errorf("ParseBundle(%.60s): %v is not ErrBundle", doc, err)
		}
	}
}

// FuzzParseBundle: a bundle is read one way or refused, never with a
// panic, and what it counts is there to count.
func FuzzParseBundle(f *testing.F) {
	recorded, err := os.ReadFile(filepath.Join(tokenfixture.Dir(), "..", "jwks", "spiffe-bundle.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(recorded)
	for _, s := range []string{`{"keys":[]}`, `{"keys":[{"use":"jwt-svid","kid":"a"}],"spiffe_sequence":1}`, `{"keys":[{"use":"x509-svid"}],"spiffe_refresh_hint":60}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := spiffe.ParseBundle(b)
		if err != nil {
			if !errors.Is(err, spiffe.ErrBundle) {
				t.Fatalf("%v is not ErrBundle", err)
			}
			return
		}
		if got.Keys > strings.Count(string(b), "jwt-svid") {
			t.Fatalf("%d jwt-svid keys counted in %q", got.Keys, b)
		}
		if got.RefreshHint < 0 || !got.HasSequence && got.Sequence != 0 {
			t.Fatalf("read %+v", got)
		}
		again, err := spiffe.ParseBundle(b)
		if err != nil || again != got {
			t.Fatalf("read twice: %+v, then %+v, %v", got, again, err)
		}
	})
}
