package gateway

import (
	"net/url"
	"strings"
	"testing"
)

// The parsers of what proxies forward from clients: the path, the XFCC
// header, the forwarded request target. None may panic, and what they
// accept must hold their promises.

func FuzzNormalPath(f *testing.F) {
	for _, s := range []string{"/", "/orders/7", "/a/../b", "/a%2fb", "//x", "/c%C3%B4te", "/%", "/a/%2e/b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := normalPath(s)
		if err != nil {
			return
		}
		for seg := range strings.SplitSeq(p[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("%q gave a dot segment: %q", s, p)
			}
		}
		if strings.Contains(p, "//") || strings.ContainsAny(p, "\\\x00\r\n") {
			t.Fatalf("%q gave %q", s, p)
		}
	})
}

func FuzzXFCC(f *testing.F) {
	_, certPEM := testCertificate(f)
	f.Add(`By=spiffe://a;Hash=00;Cert="` + url.QueryEscape(string(certPEM)) + `"`)
	f.Add(`Subject="CN=a,O=b";URI=spiffe://x,By=y`)
	f.Add(`Cert=%2D%2D%2D`)
	f.Fuzz(func(t *testing.T, s string) {
		_ = certFromXFCC([]string{s})
		for _, e := range splitQuoted(s, ',') {
			for _, p := range splitQuoted(e, ';') {
				_, _, _ = cutQuoted(p)
			}
		}
	})
}

func FuzzSplitURI(f *testing.F) {
	for _, s := range []string{"/a?b=c", "http://h/x?y", "?", "/a#f", "%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		path, _ := splitURI(s)
		if strings.Contains(path, "?") && !strings.Contains(s, "?") {
			t.Fatalf("%q: a path with ? from a target without one", s)
		}
	})
}

func TestXFCCQuotedValues(t *testing.T) {
	cert, certPEM := testCertificate(t)
	h := `By=spiffe://cluster.local/ns/default/sa/api;Hash=` + strings.ToUpper(hexSHA256(cert.Raw)) + `;Subject="CN=client,O=Example; Inc";Cert="` + url.QueryEscape(string(certPEM)) + `";URI=spiffe://cluster.local/ns/default/sa/client`
	if got := certFromXFCC([]string{h}); got == nil || !got.Equal(cert) {
		t.Fatal("certificate not read from a header with quoted values")
	}
	wrongHash := strings.Replace(h, "Hash="+strings.ToUpper(hexSHA256(cert.Raw)), "Hash="+strings.Repeat("0", 64), 1)
	if certFromXFCC([]string{wrongHash}) != nil {
		t.Fatal("a Hash that is not the certificate's was accepted")
	}
	if certFromXFCC([]string{h, h}) != nil {
		t.Fatal("two headers accepted")
	}
}
