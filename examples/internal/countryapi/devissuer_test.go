package countryapi

import (
	"net"
	"strings"
	"testing"
)

func TestBaseURL(t *testing.T) {
	for _, c := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8091}, "http://localhost:8091"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8091}, "http://localhost:8091"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8091}, "http://127.0.0.1:8091"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8091}, "http://[::1]:8091"},
	} {
		if got := BaseURL(c.addr); got != c.want {
			t.Errorf("BaseURL(%v) = %q, want %q", c.addr, got, c.want)
		}
	}
}

func TestDevIssuer(t *testing.T) {
	a, err := StartDevIssuer(DevAudience, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	b, err := StartDevIssuer(DevAudience, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)

	if a.ClientSecret == b.ClientSecret || len(a.ClientSecret) < 20 {
		t.Errorf("secrets %q and %q: want a fresh random secret each time", a.ClientSecret, b.ClientSecret)
	}
	if !strings.HasPrefix(a.URL(), "http://127.0.0.1:") || a.TokenURL() != a.URL()+"/token" {
		t.Errorf("URL %q, TokenURL %q: want a loopback issuer", a.URL(), a.TokenURL())
	}
}
