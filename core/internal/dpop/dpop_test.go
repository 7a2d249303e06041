package dpop

import (
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
