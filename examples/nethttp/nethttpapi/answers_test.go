package nethttpapi

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
)

// answer is what the API sent back.
type answer struct {
	status     int
	challenges []string // the WWW-Authenticate values, in order
	retryAfter string
	body       string
}

// call sends GET path to the API at base with the given header lines.
func call(t *testing.T, base, path string, header http.Header) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, challenges: resp.Header.Values("WWW-Authenticate"), retryAfter: resp.Header.Get("Retry-After"), body: string(body)}
}

// The situations of README.md's Answers table, each made against the
// country API as `go run ./examples/nethttp` runs it: a request for the
// country lookup, which needs scope country.read.
func situations(t *testing.T) map[string]func(t *testing.T) answer {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience(countryapi.DevAudience))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	addr, _ := exampletest.Start(t, Run, countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{countryapi.DevAudience}})
	base := countryapi.BaseURL(addr)
	mint := func(claims map[string]any) string {
		tok, err := iss.Mint(claims)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid := mint(map[string]any{"scope": "country.read"})
	bearer := func(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }
	get := func(h http.Header) func(t *testing.T) answer {
		return func(t *testing.T) answer { return call(t, base, "/country/code/AUS", h) }
	}
	return map[string]func(t *testing.T) answer{
		"no token: no `Authorization` header, or another scheme (`Basic …`)": func(t *testing.T) answer {
			a, b := call(t, base, "/country/code/AUS", nil), call(t, base, "/country/code/AUS", http.Header{"Authorization": {"Basic Y291bnRyeTpjbGllbnQ="}})
			if a.status != b.status || strings.Join(a.challenges, "\n") != strings.Join(b.challenges, "\n") || a.body != b.body {
				t.Errorf("no header %+v, Basic %+v: want the same answer", a, b)
			}
			return a
		},
		"`Bearer` with nothing after it, two `Authorization` headers": func(t *testing.T) answer {
			a := call(t, base, "/country/code/AUS", http.Header{"Authorization": {"Bearer "}})
			b := call(t, base, "/country/code/AUS", http.Header{"Authorization": {"Bearer " + valid, "Bearer " + valid}})
			if a.status != b.status || len(a.challenges) != len(b.challenges) {
				t.Errorf("empty %+v, two headers %+v: want the same kind of answer", a, b)
			}
			return b
		},
		"a token that is not a JWS (`Bearer garbage`), a bad signature, expired, wrong issuer or audience, unknown key; also `none` or HMAC, a wrong type, inactive (introspection), refused by a validator…": func(t *testing.T) answer {
			garbage := get(bearer("garbage"))(t)
			other, err := bearertest.NewKey("RS256")
			if err != nil {
				t.Fatal(err)
			}
			unknown, err := iss.Mint(map[string]any{"scope": "country.read"}, bearertest.WithKey(other))
			if err != nil {
				t.Fatal(err)
			}
			for name, tok := range map[string]string{
				"bad signature":  valid[:len(valid)-4] + "AAAA",
				"expired":        mint(map[string]any{"scope": "country.read", "exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix()}),
				"wrong issuer":   mint(map[string]any{"scope": "country.read", "iss": "https://sso.example.com/realms/other"}),
				"wrong audience": mint(map[string]any{"scope": "country.read", "aud": "another-api"}),
				"unknown key":    unknown,
			} {
				if a := get(bearer(tok))(t); a.status != garbage.status || len(a.challenges) != len(garbage.challenges) {
					t.Errorf("%s: %+v; want the same kind of answer as garbage, %+v", name, a, garbage)
				}
			}
			return garbage
		},
		"a valid token without the route's scope": get(bearer(mint(map[string]any{"scope": "customer.read"}))),
		"`DPoP` with a bad proof":                 get(http.Header{"Authorization": {"DPoP " + valid}, "Dpop": {"not-a-proof"}}),
		"the issuer cannot be reached and no keys are held (also: the introspection endpoint or the DPoP replay store cannot answer)": func(t *testing.T) answer {
			down, err := bearertest.NewIssuer(bearertest.WithAudience(countryapi.DevAudience))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(down.Close)
			tok, err := down.Mint(map[string]any{"scope": "country.read"})
			if err != nil {
				t.Fatal(err)
			}
			down.SetDown(true)
			addr, _ := exampletest.Start(t, Run, countryapi.Config{IssuerURL: down.URL(), Audiences: []string{countryapi.DevAudience}})
			return call(t, countryapi.BaseURL(addr), "/country/code/AUS", bearer(tok))
		},
	}
}

// TestAnswersTable makes each situation of README.md's Answers table to
// the running example and checks the answer against the table's row: the
// status, every challenge (with the resource_metadata and the DPoP
// challenge that the text under the table says the example adds), and the
// body, "…" standing for any text.
func TestAnswersTable(t *testing.T) {
	rows := answersTable(t)
	cases := situations(t)
	for situation := range cases {
		if _, ok := rows[situation]; !ok {
			t.Errorf("README.md's Answers table has no row %q", situation)
		}
	}
	for situation, row := range rows {
		t.Run(situation, func(t *testing.T) {
			f, ok := cases[situation]
			if !ok {
				t.Fatalf("no test makes the README's situation %q", situation)
			}
			got := f(t)
			if got.status != row.status || (got.retryAfter != "") != row.retryAfter {
				t.Errorf("status %d, Retry-After %q; the README says %d, Retry-After %t", got.status, got.retryAfter, row.status, row.retryAfter)
			}
			want := row.challenges
			if len(want) > 0 && !slices.ContainsFunc(want, func(c string) bool { return strings.HasPrefix(c, "DPoP ") }) {
				want = append(want, `DPoP algs="…"`)
			}
			if len(got.challenges) != len(want) {
				t.Fatalf("challenges %q; the README says %q", got.challenges, want)
			}
			for i, c := range want {
				if !matches(c+`, resource_metadata="…"`, got.challenges[i]) {
					t.Errorf("challenge %d is %q; the README says %q, then resource_metadata", i, got.challenges[i], c)
				}
			}
			if !matches(row.body, got.body) {
				t.Errorf("body %q; the README says %q", got.body, row.body)
			}
		})
	}
}

// row is one row of the Answers table.
type row struct {
	status     int
	retryAfter bool
	challenges []string
	body       string
}

var codeSpan = regexp.MustCompile("`([^`]*)`")

func answersTable(t *testing.T) map[string]row {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Answers\n")
	if !ok {
		t.Fatal("README.md has no Answers section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]row{}
	for line := range strings.Lines(section) {
		cells := strings.Split(strings.TrimSpace(line), " | ")
		if len(cells) != 4 || !strings.HasPrefix(cells[0], "| ") || strings.HasPrefix(cells[0], "| situation") {
			continue
		}
		var r row
		status, _, _ := strings.Cut(cells[1], " ")
		if r.status, err = strconv.Atoi(status); err != nil {
			t.Fatalf("row %q: status %q", line, cells[1])
		}
		r.retryAfter = strings.Contains(cells[1], "`Retry-After`")
		for _, m := range codeSpan.FindAllStringSubmatch(cells[2], -1) {
			r.challenges = append(r.challenges, m[1])
		}
		body := codeSpan.FindStringSubmatch(cells[3])
		if body == nil {
			t.Fatalf("row %q: no body", line)
		}
		r.body = body[1]
		rows[strings.TrimPrefix(cells[0], "| ")] = r
	}
	if len(rows) == 0 {
		t.Fatal("README.md's Answers section has no table")
	}
	return rows
}

// matches reports whether s is pattern, where "…" stands for any text
// without a double quote.
func matches(pattern, s string) bool {
	parts := strings.Split(pattern, "…")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile(`^` + strings.Join(parts, `[^"]*`) + `$`).MatchString(s)
}
