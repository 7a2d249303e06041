// Package dpop holds the parts of checking DPoP proofs (RFC 9449) that do
// not depend on how a token is parsed: the URL a proof must name, the hash
// binding it to an access token, and stateless server nonces.
package dpop

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// NormalizeURL is the form in which a proof's htu and the request's URL are
// compared (RFC 9449 §4.3 step 9, RFC 3986 §6.2.2–6.2.3): query and
// fragment dropped, scheme and host in lower case, the port as a number
// and the default port removed, an empty path made "/", and
// percent-encodings of unreserved characters decoded, so that two
// spellings of one URL compare equal and different URLs never do.
//
// An authority that names no host a client could reach is refused: no
// host (https://:8443/), an empty DNS label (https://a..b/), an IPv6 zone
// (meaningful on one machine only), or a port outside 1–65535.
func NormalizeURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil {
		return "", errors.New("not an absolute http(s) URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "https" && scheme != "http" {
		return "", errors.New("not an http(s) URL")
	}
	host := strings.ToLower(u.Hostname())
	switch {
	case host == "":
		return "", errors.New("the URL names no host")
	case strings.Contains(host, "%"):
		return "", errors.New("the URL's host has an IPv6 zone")
	case !strings.Contains(host, ":") && (host[0] == '.' || strings.Contains(host, "..")):
		return "", errors.New("the URL's host has an empty label")
	}
	port := u.Port()
	if port != "" {
		// url.Parse lets only digits through, but any number of them.
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", errors.New("the URL's port is not between 1 and 65535")
		}
		port = strconv.Itoa(n)
	}
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		port = ""
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		host += ":" + port
	}
	path := u.EscapedPath()
	if path == "" {
		path = "/"
	}
	return scheme + "://" + host + normalizePath(path), nil
}

// normalizePath decodes percent-encoded unreserved characters and writes
// the remaining escapes in upper case.
func normalizePath(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			c := unhex(p[i+1])<<4 | unhex(p[i+2])
			if isUnreserved(c) {
				b.WriteByte(c)
			} else {
				b.WriteString("%" + strings.ToUpper(p[i+1:i+3]))
			}
			i += 2
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
}

// AccessTokenHash is the ath a proof must carry for token:
// base64url(SHA-256(token)).
func AccessTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Nonces are server-provided nonces (RFC 9449 §8–9) that need no shared
// state beyond a secret: a nonce is a time window's number and its HMAC,
// so every replica holding the secret accepts the nonces of the others.
// A nonce is valid in its window and the next, so one issued just before
// a rotation still works.
type Nonces struct {
	Secret []byte
	Every  time.Duration
}

// Current is the nonce to hand out at now.
func (n Nonces) Current(now time.Time) string { return n.of(n.window(now)) }

// Valid reports whether nonce was handed out in the current window or the
// one before.
func (n Nonces) Valid(nonce string, now time.Time) bool {
	w := n.window(now)
	for _, candidate := range []uint64{w, w - 1} {
		if hmac.Equal([]byte(nonce), []byte(n.of(candidate))) {
			return true
		}
	}
	return false
}

func (n Nonces) window(now time.Time) uint64 { return uint64(now.UnixNano() / int64(n.Every)) }

func (n Nonces) of(window uint64) string {
	var w [8]byte
	binary.BigEndian.PutUint64(w[:], window)
	mac := hmac.New(sha256.New, n.Secret)
	mac.Write([]byte("bouncer DPoP nonce\x00"))
	mac.Write(w[:])
	return base64.RawURLEncoding.EncodeToString(append(w[:], mac.Sum(nil)[:16]...))
}
