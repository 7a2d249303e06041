package spiffe_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/bouncer-go/bouncer/core/workload/spiffe"
)

func TestParseID(t *testing.T) {
	valid := map[string][2]string{ // id: trust domain, path
		"spiffe://example.org":                                       {"example.org", ""},
		"spiffe://example.org/ns/shop/sa/checkout":                   {"example.org", "/ns/shop/sa/checkout"},
		"spiffe://staging.example.com/payments/web-fe":               {"staging.example.com", "/payments/web-fe"},
		"spiffe://k8s_west-1.example.com/A.b-c_D/e..f":               {"k8s_west-1.example.com", "/A.b-c_D/e..f"},
		"spiffe://10.0.0.1/x":                                        {"10.0.0.1", "/x"},
		"spiffe://a/" + strings.Repeat("x", 2048-len("spiffe://a/")): {"a", "/" + strings.Repeat("x", 2048-len("spiffe://a/"))},
	}
	for s, want := range valid {
		id, err := spiffe.ParseID(s)
		if err != nil {
			t.Errorf("ParseID(%q): %v", s, err)
			continue
		}
		if id.String() != s || id.TrustDomain() != want[0] || id.Path() != want[1] {
			t.Errorf("ParseID(%q) = %q, %q, %q", s, id, id.TrustDomain(), id.Path())
		}
	}
	invalid := []string{
		"", "spiffe://", "spiffe:///path", "SPIFFE://example.org", "spiffe:/example.org", "https://example.org/x",
		"spiffe://Example.org", "spiffe://example.org:8080", "spiffe://user@example.org", "spiffe://exa%6dple.org",
		"spiffe://example.org/", "spiffe://example.org//x", "spiffe://example.org/x/", "spiffe://example.org/./x",
		"spiffe://example.org/x/..", "spiffe://example.org/x%20y", "spiffe://example.org/x?y", "spiffe://example.org/x#y",
		"spiffe://example.org/x y", "spiffe://example.org/é", "spiffe://[::1]/x", "spiffe://example.org\x00/x",
		"spiffe://" + strings.Repeat("a", 256), "spiffe://a/" + strings.Repeat("x", 2049-len("spiffe://a/")),
		" spiffe://example.org", "spiffe://example.org/x\n",
	}
	for _, s := range invalid {
		if id, err := spiffe.ParseID(s); err == nil {
			t.Errorf("ParseID(%q) = %q; want an error", s, id)
		} else if !errors.Is(err, spiffe.ErrInvalidID) {
			t.Errorf("ParseID(%q): %v is not ErrInvalidID", s, err)
		}
	}
}

func TestMemberOf(t *testing.T) {
	id := spiffe.MustParseID
	cases := []struct {
		id, parent string
		want       bool
	}{
		{"spiffe://example.org/ns/shop/sa/checkout", "spiffe://example.org/ns/shop", true},
		{"spiffe://example.org/ns/shop", "spiffe://example.org/ns/shop", true},
		{"spiffe://example.org/ns/shopping", "spiffe://example.org/ns/shop", false},
		{"spiffe://example.org/ns", "spiffe://example.org/ns/shop", false},
		{"spiffe://example.org/ns/shop", "spiffe://example.org", true},
		{"spiffe://example.org", "spiffe://example.org", true},
		{"spiffe://example.org.evil/ns/shop", "spiffe://example.org/ns/shop", false},
		{"spiffe://other.org/ns/shop", "spiffe://example.org", false},
		{"spiffe://example.org/NS/shop", "spiffe://example.org/ns", false},
	}
	for _, c := range cases {
		if got := id(c.id).MemberOf(id(c.parent)); got != c.want {
			t.Errorf("%s.MemberOf(%s) = %v", c.id, c.parent, got)
		}
	}
	var zero spiffe.ID
	if zero.MemberOf(zero) || id("spiffe://example.org").MemberOf(zero) || zero.MemberOf(id("spiffe://example.org")) {
		t.Error("the zero ID is a member of something, or something of it")
	}
}

func TestTrustDomainID(t *testing.T) {
	for _, s := range []string{"example.org", "spiffe://example.org"} {
		id, err := spiffe.TrustDomainID(s)
		if err != nil || id.String() != "spiffe://example.org" {
			t.Errorf("TrustDomainID(%q) = %q, %v", s, id, err)
		}
	}
	for _, s := range []string{"", "spiffe://example.org/x", "Example.org", "example.org/x", "example.org:1"} {
		if _, err := spiffe.TrustDomainID(s); err == nil {
			t.Errorf("TrustDomainID(%q) accepted", s)
		}
	}
}

func TestMustParseIDPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParseID of an invalid ID did not panic")
		}
	}()
	spiffe.MustParseID("spiffe://example.org/")
}

// FuzzParseID holds the parser to what the specification lets an ID be:
// whatever it accepts is printable ASCII of the allowed alphabet, splits
// into the trust domain and path it reports, and is a member of its own
// trust domain and of itself.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"spiffe://example.org", "spiffe://example.org/ns/shop/sa/checkout", "spiffe://example.org/", "spiffe://a/b/../c", "spiffe://EXAMPLE.org/x", "spiffe://x/%41"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := spiffe.ParseID(s)
		if err != nil {
			if !errors.Is(err, spiffe.ErrInvalidID) || strings.Contains(err.Error(), s) && len(s) > 16 {
				t.Fatalf("error %v", err)
			}
			return
		}
		if id.String() != s || "spiffe://"+id.TrustDomain()+id.Path() != s || len(s) > 2048 {
			t.Fatalf("%q read as %q + %q", s, id.TrustDomain(), id.Path())
		}
		for i := 0; i < len(s); i++ {
			if c := s[i]; c <= ' ' || c > '~' || c == '%' || c == '?' || c == '#' || c == '@' || c == ':' && i != 6 {
				t.Fatalf("%q accepted with %q", s, c)
			}
		}
		td, err := spiffe.TrustDomainID(id.TrustDomain())
		if err != nil || !id.MemberOf(td) || !id.MemberOf(id) {
			t.Fatalf("%q is not a member of its trust domain or itself (%v)", s, err)
		}
		if p := id.Path(); p != "" && (strings.HasSuffix(p, "/") || strings.Contains(p, "//") || strings.Contains(p+"/", "/./") || strings.Contains(p+"/", "/../")) {
			t.Fatalf("%q accepted with path %q", s, p)
		}
	})
}
