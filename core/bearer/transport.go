package bearer

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bouncer-go/bouncer/core/issuerurl"
)

// Whoever can alter the traffic between a verifier and its issuer can hand
// it their own keys, so the issuer, its discovery document and its keys are
// fetched over https only. Loopback hosts are the exception: nothing on the
// network stands between them, and development issuers and tests live
// there.

// maxRedirects bounds the redirects one fetch follows.
const maxRedirects = 5

// secureURL checks that raw may be fetched: https, or http on a loopback
// host, or anything when insecure is set.
func secureURL(raw string, insecure bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%q is not a URL: %w", raw, err)
	}
	return secureTarget(u, insecure)
}

func secureTarget(u *url.URL, insecure bool) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && (insecure || issuerurl.IsLoopback(u.Hostname())):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("%s is plain http: bouncer fetches issuer metadata and keys over https only (loopback hosts excepted; Config.InsecureAllowHTTP overrides)", u.Redacted())
	}
	return fmt.Errorf("%s is neither https nor http", u.Redacted())
}

// guardRedirects returns a copy of client (or of the default client) that
// follows a redirect only when its target passes secureTarget, does not go
// from https to http (unless insecure), and stays on the same origin
// (unless crossOrigin). The caller's own redirect policy, if any, still
// runs after these checks.
func guardRedirects(client *http.Client, insecure, crossOrigin bool) *http.Client {
	if client == nil {
		client = defaultHTTPClient()
	}
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		from, to := via[0].URL, req.URL
		if err := secureTarget(to, insecure); err != nil {
			return fmt.Errorf("redirect refused: %w", err)
		}
		if from.Scheme == "https" && to.Scheme != "https" && !insecure {
			return errors.New("redirect refused: from https to plain http")
		}
		if !crossOrigin && !sameOrigin(from, to) {
			return fmt.Errorf("redirect refused: %s is another origin than %s (Config.AllowRedirectsAcrossOrigins overrides)", to.Redacted(), from.Redacted())
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

func sameOrigin(a, b *url.URL) bool {
	return a.Scheme == b.Scheme && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if u.Scheme == "https" {
		return "443"
	}
	return "80"
}
