// Package spring_test keeps application.yml honest: the properties the
// set-up guide relies on must sit at the paths Spring Boot's
// OAuth2AuthorizationServerProperties binds. The file is read by
// indentation, which its plain block style allows; no YAML library needed.
package spring_test

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

const (
	server = "spring.security.oauth2.authorizationserver"
	client = server + ".client.country-client"
)

// readProperties maps each dotted key path to its scalar value, or for a
// block sequence to its items. It understands what application.yml uses:
// comments, "key:", "key: value" and "- item" lines, two-space indents.
func readProperties(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("application.yml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	props := map[string][]string{}
	var path []string // path[i] is the key at indent 2*i
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.Contains(line, "\t") {
			t.Fatalf("application.yml:%d: a tab; YAML indents with spaces", n)
		}
		text := strings.TrimSpace(line)
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent%2 != 0 {
			t.Fatalf("application.yml:%d: indent of %d spaces", n, indent)
		}
		level := indent / 2
		if item, ok := strings.CutPrefix(text, "- "); ok {
			if level != len(path) {
				t.Fatalf("application.yml:%d: item not under its key", n)
			}
			key := strings.Join(path, ".")
			props[key] = append(props[key], unquote(item))
			continue
		}
		key, value, ok := strings.Cut(text, ":")
		if !ok || level > len(path) {
			t.Fatalf("application.yml:%d: cannot read %q", n, text)
		}
		path = append(path[:level], key)
		if value = strings.TrimSpace(value); value != "" {
			props[strings.Join(path, ".")] = []string{unquote(value)}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return props
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

func TestClientCredentialsClient(t *testing.T) {
	p := readProperties(t)
	for key, want := range map[string]string{
		server + ".issuer":                                     "http://localhost:9000",
		client + ".registration.client-id":                     "country-client",
		client + ".registration.client-secret":                 "{noop}demo-secret-regenerate-me",
		client + ".registration.authorization-grant-types":     "client_credentials",
		client + ".registration.client-authentication-methods": "client_secret_basic",
		client + ".registration.scopes":                        "country.read",
		client + ".token.access-token-format":                  "self-contained",
		"server.port":                                          "9000",
	} {
		if !slices.Contains(p[key], want) {
			t.Errorf("%s = %q, want it to hold %q", key, p[key], want)
		}
	}
	if grants := p[client+".registration.authorization-grant-types"]; len(grants) != 1 {
		t.Errorf("authorization-grant-types = %q: client_credentials should be the only grant", grants)
	}
}

// A plain string check as well, in case the reader above is ever wrong.
func TestMentionsClientCredentialsGrant(t *testing.T) {
	b, err := os.ReadFile("application.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"authorizationserver:", "- client_credentials", "access-token-format: self-contained"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("application.yml lacks %q", want)
		}
	}
}

// The audience customizer of the guide (examples/README.md) is the one the
// tests' Spring Authorization Server runs, line for line.
func TestGuideCustomizerIsTheTestIssuers(t *testing.T) {
	guide, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	java, err := os.ReadFile("../../testdata/spring-authorization-server/src/main/java/org/bouncergo/countryissuer/CountryIssuer.java")
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "@Bean\n", "};\n       }\n"
	g := string(guide)
	i := strings.Index(g, start+"       OAuth2TokenCustomizer<JwtEncodingContext> countryApiAudience()")
	if i < 0 {
		t.Fatal("the guide has no countryApiAudience bean")
	}
	j := strings.Index(g[i:], end)
	if j < 0 {
		t.Fatal("the guide's bean does not end")
	}
	var src []string
	for _, line := range strings.Split(string(java), "\n") {
		src = append(src, strings.TrimSpace(line))
	}
	code := strings.Join(src, "\n")
	var want []string
	for _, line := range strings.Split(g[i:i+j+len(end)], "\n") {
		if line = strings.TrimSpace(line); line != "" {
			want = append(want, line)
		}
	}
	if !strings.Contains(code, strings.Join(want[:len(want)-2], "\n")) {
		t.Errorf("CountryIssuer.java lacks the guide's bean:\n%s", strings.Join(want, "\n"))
	}
}
