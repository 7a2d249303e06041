package countryapi

import (
	"net"
	"os/exec"
	"path/filepath"
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

// The printed recipe gets a token and calls the API; when the issuer
// refuses the token request, it stops there with the issuer's error
// rather than calling the API with no token.
func TestHowToStopsWithTheIssuersError(t *testing.T) {
	d, err := StartDevIssuer(DevAudience, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Close)
	howTo := d.httpHowTo("http://127.0.0.1:1")
	var recipe []string
	for line := range strings.Lines(howTo) {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "TOKEN=") || strings.HasPrefix(l, "curl ") {
			recipe = append(recipe, l)
		}
	}
	if len(recipe) != 2 || !strings.HasSuffix(recipe[0], "&&") {
		t.Fatalf("recipe %q: want a token line ending in && and the curl line", recipe)
	}
	// The recipe runs from the repository's root, as the examples do; the
	// curl line is replaced by one that shows whether it was reached.
	run := func(tokenLine string) (string, string, error) {
		cmd := exec.Command("sh", "-c", tokenLine+"\necho \"reached: $TOKEN\"")
		cmd.Dir = filepath.Join("..", "..", "..")
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		return stdout.String(), stderr.String(), err
	}

	out, errOut, err := run(recipe[0])
	token := strings.TrimSpace(strings.TrimPrefix(out, "reached: "))
	if err != nil || strings.Count(token, ".") != 2 {
		t.Fatalf("the token line: %v, printed %q and %q; want a JWT in $TOKEN", err, out, errOut)
	}

	wrong := strings.Replace(recipe[0], d.ClientSecret, "not-the-secret", 1)
	out, errOut, err = run(wrong)
	if err == nil || strings.Contains(out, "reached") {
		t.Errorf("with a wrong secret the recipe went on: %v, printed %q", err, out)
	}
	if !strings.Contains(errOut, "invalid_client") {
		t.Errorf("with a wrong secret the recipe printed %q; want the issuer's invalid_client", errOut)
	}
}
