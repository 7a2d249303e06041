package dpop

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestNormalizeURL(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"https://API.example.com/country", "https://api.example.com/country"},
		{"HTTPS://api.example.com:443/country?x=1#f", "https://api.example.com/country"},
		{"http://api.example.com:80", "http://api.example.com/"},
		{"https://api.example.com/%7Euser/%2f", "https://api.example.com/~user/%2F"},
		{"http://[::1]:8080/a", "http://[::1]:8080/a"},
		// An empty port, and a port spelled with leading zeros, are the
		// port they stand for (RFC 3986 §6.2.3).
		{"https://api.example.com:/a", "https://api.example.com/a"},
		{"https://api.example.com:0443/a", "https://api.example.com/a"},
		{"https://api.example.com:08443/a", "https://api.example.com:8443/a"},
	} {
		got, err := NormalizeURL(tc.a)
		if err != nil || got != tc.b {
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", tc.a, got, err, tc.b)
		}
	}
	for _, bad := range []string{"", "/path", "ftp://h/x", "https://user@h/x", "mailto:a@b",
		// Authorities that name no host a client can reach.
		"https://:8443/x", "https://:/x", "https://@:8443/x", "http://:80/",
		"https://api.example.com:0/x", "https://api.example.com:65536/x", "https://api.example.com:99999999999999999999/x",
		"https://./x", "https://.example.com/x", "https://api..example.com/x",
		"https://[fe80::1%25eth0]/x", "https://[fe80::1%25eth0]:8443/x",
	} {
		if got, err := NormalizeURL(bad); err == nil {
			t.Errorf("NormalizeURL(%q) = %q; want an error", bad, got)
		}
	}
	a, _ := NormalizeURL("https://api.example.com/a")
	b, _ := NormalizeURL("https://api.example.com/b")
	c, _ := NormalizeURL("https://api.example.com:8443/a")
	if a == b || a == c {
		t.Fatal("different URLs normalise alike")
	}
}

func TestNonces(t *testing.T) {
	n := Nonces{Secret: []byte("s3cret"), Every: time.Minute}
	now := time.Unix(1_800_000_000, 0)
	cur := n.Current(now)
	if !n.Valid(cur, now) || !n.Valid(cur, now.Add(time.Minute)) {
		t.Fatal("a current nonce is refused")
	}
	if n.Valid(cur, now.Add(2*time.Minute)) {
		t.Fatal("a nonce two windows old is accepted")
	}
	other := Nonces{Secret: []byte("other"), Every: time.Minute}
	if other.Valid(cur, now) || n.Valid("junk", now) {
		t.Fatal("a foreign or junk nonce is accepted")
	}
}

func TestAccessTokenHash(t *testing.T) {
	// RFC 9449 §7.1's example token and ath.
	if got := AccessTokenHash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"); got != "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo" {
		t.Fatalf("ath %s", got)
	}
}

// FuzzNormalizeURL holds NormalizeURL's output to its form: normalising it
// again changes nothing, and it is an absolute http(s) URL with a host in
// lower case, no user, query or fragment, and a port that is a number from
// 1 to 65535 without leading zeros and not the scheme's default.
func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{
		"https://API.example.com/country", "HTTPS://api.example.com:443/country?x=1#f", "http://api.example.com:80",
		"https://api.example.com/%7Euser/%2f", "http://[::1]:8080/a", "https://api.example.com:0443/a", "https://:8443/x",
		"https://api.example.com:0/x", "https://[fe80::1%25eth0]/x", "https://a..b/", "https://h:/x", "https://user@h/x",
		"https://h/a%2", "https://h/%zz", "http://1.2.3.4:65535/", "https://xn--bcher-kva.example/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		out, err := NormalizeURL(raw)
		if err != nil {
			return
		}
		again, err := NormalizeURL(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeURL(%q) = %q, normalised again %q, %v", raw, out, again, err)
		}
		u, err := url.Parse(out)
		if err != nil {
			t.Fatalf("%q does not parse: %v", out, err)
		}
		host, port := u.Hostname(), u.Port()
		switch {
		case u.Scheme != "https" && u.Scheme != "http":
			t.Fatalf("%q: scheme %q", out, u.Scheme)
		case host == "" || host != strings.ToLower(host) || strings.Contains(host, "%"):
			t.Fatalf("%q: host %q", out, host)
		case u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
			t.Fatalf("%q has a user, query or fragment", out)
		case !strings.HasPrefix(u.EscapedPath(), "/"):
			t.Fatalf("%q: path %q", out, u.EscapedPath())
		case strings.HasSuffix(u.Host, ":"):
			t.Fatalf("%q: empty port", out)
		}
		if port != "" {
			n, err := strconv.Atoi(port)
			if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port || (u.Scheme == "https" && n == 443) || (u.Scheme == "http" && n == 80) {
				t.Fatalf("%q: port %q", out, port)
			}
		}
	})
}
