package bearertest

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// DefaultAudience is the audience of minted tokens unless [WithAudience]
// chooses another.
const DefaultAudience = "bouncer-test-api"

// DefaultSubject is the subject, and client ID, of tokens from [Issuer.Mint]
// unless the claims choose another.
const DefaultSubject = "bearertest-client"

// DefaultTokenTTL is the lifetime of minted tokens unless [WithTokenTTL]
// chooses another.
const DefaultTokenTTL = 5 * time.Minute

// An Option configures an [Issuer] in [NewIssuer].
type Option func(*config)

type config struct {
	addr      string
	tls       bool
	path      string
	audience  string
	ttl       time.Duration
	now       func() time.Time
	tokenAlg  string
	startKeys []string
	clients   []client
	opaque    bool
	tenants   bool
	ssf       bool
	errs      []error
}

func defaultConfig() config {
	return config{
		addr:     "127.0.0.1:0",
		audience: DefaultAudience,
		ttl:      DefaultTokenTTL,
		now:      time.Now,
		tokenAlg: "RS256",
	}
}

func (c *config) fail(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("bearertest: "+format, args...))
}

// WithAudience sets the audience ("aud") of minted tokens when neither the
// claims nor the token request choose one. The default is [DefaultAudience].
func WithAudience(aud string) Option {
	return func(c *config) {
		if aud == "" {
			c.fail("empty audience")
			return
		}
		c.audience = aud
	}
}

// WithClient registers a client that may use the token endpoint, with the
// scopes it may be granted. A scope argument holding spaces counts as several
// scopes, as in the "scope" request parameter.
func WithClient(id, secret string, scopes ...string) Option {
	return func(c *config) {
		if id == "" || secret == "" {
			c.fail("client %q: empty client ID or secret", id)
			return
		}
		c.clients = append(c.clients, newClient(id, secret, scopes))
	}
}

// WithTokenTTL sets the lifetime of minted tokens: "exp" is "iat" plus d. The
// default is [DefaultTokenTTL]. To mint an expired token, set "exp" in the
// claims instead.
func WithTokenTTL(d time.Duration) Option {
	return func(c *config) {
		if d < time.Second {
			c.fail("token TTL %v is shorter than a second", d)
			return
		}
		c.ttl = d
	}
}

// WithClock sets the clock that dates minted tokens ("iat", "exp"), so a test
// can mint tokens as of any instant. A nil now restores time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now == nil {
			now = time.Now
		}
		c.now = now
	}
}

// WithIssuerPath gives the issuer identifier a path, as Keycloak's
// "/realms/NAME" does, so that verifiers are tested against issuers that are
// not a bare origin. Every endpoint moves under the path, except the RFC 8414
// discovery document, which is at "/.well-known/oauth-authorization-server"
// followed by the path. A leading slash is added and a trailing one dropped.
func WithIssuerPath(path string) Option {
	return func(c *config) {
		p := "/" + strings.Trim(path, "/")
		if p == "/" {
			c.path = ""
			return
		}
		for _, seg := range strings.Split(p[1:], "/") {
			if seg == "" || seg == "." || seg == ".." || url.PathEscape(seg) != seg {
				c.fail("issuer path %q: each segment must be non-empty and need no escaping", path)
				return
			}
		}
		c.path = p
	}
}

// WithTokenAlg sets the algorithm of tokens from the token endpoint and of
// [Issuer.Mint] without [WithAlg]. The default is RS256.
func WithTokenAlg(alg string) Option {
	return func(c *config) {
		a, err := lookupAlgorithm(alg)
		if err != nil {
			c.errs = append(c.errs, err)
			return
		}
		if a.keyType == keyNone {
			c.fail(`token algorithm "none" is not a signature algorithm`)
			return
		}
		c.tokenAlg = alg
	}
}

// WithKeysFor generates and publishes keys for algs when the issuer
// starts, instead of on first use, so that a verifier's first JWKS fetch
// already holds them: what a development server that clients may ask for
// any algorithm wants. [CommonAlgorithms] is the usual set.
func WithKeysFor(algs ...string) Option {
	return func(c *config) {
		for _, alg := range algs {
			if a, err := lookupAlgorithm(alg); err != nil || a.keyType == keyNone {
				c.fail("no key for algorithm %q", alg)
				return
			}
		}
		c.startKeys = append(c.startKeys, algs...)
	}
}

// CommonAlgorithms are the families real issuers sign access tokens with.
var CommonAlgorithms = []string{"RS256", "PS256", "ES256", "EdDSA"}

// WithAddr sets the address the issuer listens on. The default,
// "127.0.0.1:0", picks a free loopback port, which suits tests; a fixed
// address suits a development server that other programs are configured
// to use.
func WithAddr(addr string) Option {
	return func(c *config) {
		if addr == "" {
			c.fail("empty listen address")
			return
		}
		c.addr = addr
	}
}

// WithTLS serves HTTPS, for verifiers that insist on an https issuer. The
// certificate is net/http/httptest's self-signed one, valid for 127.0.0.1
// and ::1; clients must trust it, as [Issuer.Client] does.
func WithTLS() Option {
	return func(c *config) { c.tls = true }
}

func (c *config) err() error { return errors.Join(c.errs...) }
