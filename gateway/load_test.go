package gateway

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestParseNamesTheLine(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		env        map[string]string
		want       []string // substrings of the error, each of them
	}{
		{"unknown setting, with a suggestion", `
issuers:
  - issuer-uri: https://sso.example.com
    audience: [api]
`, nil, []string{"gateway.yaml:4:5: issuers[0].audience: unknown setting \"audience\" (did you mean \"audiences\"?)"}},
		{"wrong type", `
issuers:
  - issuer-uri: https://sso.example.com
    audiences: [api]
    clock-skew: soon
routes:
  - path: /
`, nil, []string{"gateway.yaml:5:", "soon"}},
		{"environment variable not set", `
issuers:
  - issuer-uri: ${ISSUER}
    audiences: [api]
routes: [{path: /}]
`, nil, []string{"gateway.yaml:3:17: issuers[0].issuer-uri: the environment variable ISSUER is not set"}},
		{"validation, at the setting", `
issuers:
  - issuer-uri: https://sso.example.com
    audiences: [api]
routes:
  - path: /a
  - path: /b
    path-prefix: /b
    methods: [get]
`, nil, []string{"gateway.yaml:7:11: routes[1].path: set path or path-prefix, not both", "gateway.yaml:9:15: routes[1].methods[0]: \"get\" is not a method name in capitals"}},
		{"no issuer, no route", `log: {level: info}`, nil, []string{"issuers: at least one issuer is required", "routes: no routes"}},
		{"a skipped route with a policy", `
issuers: [{issuer-uri: "https://a.example", audiences: [api]}]
routes:
  - path: /x
    auth: skip
    policy: {scopes: [x]}
`, nil, []string{"gateway.yaml:6:13: routes[0].policy: a skipped route checks nothing"}},
		{"reserved header", `
issuers: [{issuer-uri: "https://a.example", audiences: [api]}]
routes: [{path: /}]
upstream-headers:
  client-id: Authorization
`, nil, []string{"gateway.yaml:5:14: upstream-headers.client-id: Authorization cannot carry a claim"}},
		{"YAML syntax", "issuers: [\n", nil, []string{"gateway.yaml:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse(t, tc.text, tc.env)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			var fe *Error
			if !errors.As(err, &fe) {
				t.Errorf("not an *Error: %T", err)
			}
		})
	}
}

// Errors package bearer finds are reported at the issuer's line, with the
// file's names for the settings.
func TestNewNamesTheIssuersLine(t *testing.T) {
	cfg, err := parse(t, `
routes: [{path: /}]
issuers:
  - issuer-uri: https://a.example
    audiences: [api]
  - issuer-uri: http://sso.example.com
    audiences: [api]
`, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err == nil || !strings.HasPrefix(err.Error(), "gateway.yaml:6:5: issuers[1]: ") || !strings.Contains(err.Error(), "issuer-uri") {
		t.Fatalf("err = %v", err)
	}
}

func TestEnvironmentExpansion(t *testing.T) {
	cfg, err := parse(t, `
issuers:
  - issuer-uri: ${ISSUER}
    audiences: ["${AUD}", "literal $${NOT}"]
    max-keys: ${KEYS}
    introspection:
      client-id: api
      client-secret: ${SECRET}
routes: [{path: /}]
`, map[string]string{"ISSUER": "https://sso.example.com", "AUD": "orders", "KEYS": "12", "SECRET": "s: [x]"})
	if err != nil {
		t.Fatal(err)
	}
	is := cfg.Issuers[0]
	if is.IssuerURI != "https://sso.example.com" || is.Audiences[0] != "orders" || is.Audiences[1] != "literal ${NOT}" || is.MaxKeys != 12 {
		t.Fatalf("%+v", is)
	}
	// A value never changes the file's structure.
	if is.Introspection.ClientSecret != "s: [x]" {
		t.Fatalf("secret = %q", is.Introspection.ClientSecret)
	}
	// Keys are never expanded.
	_, err = parse(t, "${KEY}: 1\n", map[string]string{"KEY": "issuers"})
	if err == nil || !strings.Contains(err.Error(), `unknown setting "${KEY}"`) {
		t.Fatalf("a key was expanded: %v", err)
	}
}

func TestNormalPath(t *testing.T) {
	for path, want := range map[string]string{
		"/":                 "/",
		"/orders/7":         "/orders/7",
		"/orders/":          "/orders/",
		"/c%C3%B4te/ivoire": "/côte/ivoire",
		"/a%20b":            "/a b",
		"/a/../b":           "",
		"/a/./b":            "",
		"/a/%2e%2e/b":       "",
		"/a//b":             "",
		"/a%2fb":            "",
		"/a%5Cb":            "",
		"/a\\b":             "",
		"/a%00":             "",
		"/a%zz":             "",
		"a/b":               "",
		"/a%0d%0aX: y":      "",
	} {
		got, err := normalPath(path)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("normalPath(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
}

func TestPatterns(t *testing.T) {
	for _, tc := range []struct {
		pattern, path string
		match         bool
	}{
		{"/orders/{id}", "/orders/7", true},
		{"/orders/{id}", "/orders/", false},
		{"/orders/{id}", "/orders/7/lines", false},
		{"/orders/{id}/lines", "/orders/7/lines", true},
		{"/files/{rest...}", "/files/a/b/c", true},
		{"/files/{rest...}", "/files/", true},
		{"/files/{rest...}", "/files", false},
		{"/exact", "/exact", true},
		{"/exact", "/exact/", false},
	} {
		p, err := compilePattern(tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.matches(tc.path); got != tc.match {
			t.Errorf("%s matches %s = %v", tc.pattern, tc.path, got)
		}
	}
	for _, bad := range []string{"/a/{}", "/a/{x...}/b", "/a/x{y}", "relative", "/a/../b"} {
		if _, err := compilePattern(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHostMatching(t *testing.T) {
	for _, tc := range []struct {
		want, host string
		match      bool
	}{
		{"api.example.com", "api.example.com", true},
		{"*.example.com", "api.example.com", true},
		{"*.example.com", "example.com", false},
		{"*.example.com", "evilexample.com", false},
	} {
		if got := hostMatches(tc.want, tc.host); got != tc.match {
			t.Errorf("%s ~ %s = %v", tc.want, tc.host, got)
		}
	}
	if h := hostOnly("API.Example.com:8443"); h != "api.example.com" {
		t.Errorf("hostOnly = %q", h)
	}
}

func TestHeaderValue(t *testing.T) {
	for in, want := range map[string]string{
		"billing":       "billing",
		"a b":           "a b",
		"50%":           "50%25",
		"x\r\nInjected": "x%0D%0AInjected",
		"côte":          "c%C3%B4te",
	} {
		if got := headerValue(in); got != want {
			t.Errorf("headerValue(%q) = %q; want %q", in, got, want)
		}
	}
}
