package spiffe

import (
	"errors"
	"strings"
)

// maxIDLength bounds a SPIFFE ID: implementations must support 2048 bytes
// and should generate no longer ones (SPIFFE-ID §2.3); nothing longer is
// read.
const maxIDLength = 2048

// maxTrustDomainLength is the longest trust domain name: a URI host
// (SPIFFE-ID §2.3).
const maxTrustDomainLength = 255

// An ID is a SPIFFE ID, spiffe://<trust domain>/<path>, checked against
// the SPIFFE-ID specification (§2): lowercase scheme and trust domain of
// [a-z0-9.-_], no port, user or percent-encoding, path segments of
// [a-zA-Z0-9.-_] that are neither empty nor "." or "..", no trailing
// slash, no query or fragment. The zero ID is no ID: it matches nothing.
type ID struct {
	s  string // the whole ID, as parsed
	td int    // len("spiffe://") + len(trust domain)
}

const scheme = "spiffe://"

// Errors of ParseID, for errors.Is.
var (
	ErrInvalidID = errors.New("spiffe: not a valid SPIFFE ID")
)

// ParseID reads a SPIFFE ID. The trust domain alone
// ("spiffe://example.org") is an ID too, with an empty path.
func ParseID(s string) (ID, error) {
	if why := idProblem(s); why != "" {
		return ID{}, &idError{why: why}
	}
	end := strings.IndexByte(s[len(scheme):], '/')
	if end < 0 {
		end = len(s) - len(scheme)
	}
	return ID{s: s, td: len(scheme) + end}, nil
}

// MustParseID is ParseID for IDs written in a program: it panics on an
// invalid one, as regexp.MustCompile does.
func MustParseID(s string) ID {
	id, err := ParseID(s)
	if err != nil {
		panic(err)
	}
	return id
}

type idError struct{ why string }

func (e *idError) Error() string { return "spiffe: not a valid SPIFFE ID: " + e.why }
func (e *idError) Unwrap() error { return ErrInvalidID }

// idProblem says what makes s no SPIFFE ID, or "". It never repeats s.
func idProblem(s string) string {
	switch {
	case len(s) > maxIDLength:
		return "longer than 2048 bytes"
	case !strings.HasPrefix(s, scheme):
		return `the scheme is not "spiffe://"`
	}
	rest := s[len(scheme):]
	td, path, _ := strings.Cut(rest, "/")
	if why := trustDomainProblem(td); why != "" {
		return why
	}
	if len(td) < len(rest) { // a path follows
		return pathProblem(path)
	}
	return ""
}

func trustDomainProblem(td string) string {
	switch {
	case td == "":
		return "the trust domain is empty"
	case len(td) > maxTrustDomainLength:
		return "the trust domain is longer than 255 bytes"
	}
	for i := 0; i < len(td); i++ {
		if !isTrustDomainChar(td[i]) {
			return "the trust domain holds a character other than a-z, 0-9, '.', '-' and '_'"
		}
	}
	return ""
}

// pathProblem judges what follows the trust domain's slash.
func pathProblem(path string) string {
	for seg := range strings.SplitSeq(path, "/") {
		switch seg {
		case "":
			return "the path has an empty segment or a trailing slash"
		case ".", "..":
			return `the path has a "." or ".." segment`
		}
		for i := 0; i < len(seg); i++ {
			if !isPathChar(seg[i]) {
				return "the path holds a character other than a-z, A-Z, 0-9, '.', '-' and '_'"
			}
		}
	}
	return ""
}

func isTrustDomainChar(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_'
}

func isPathChar(c byte) bool {
	return isTrustDomainChar(c) || 'A' <= c && c <= 'Z'
}

// String is the ID as written: spiffe://example.org/ns/shop/sa/checkout.
func (id ID) String() string { return id.s }

// TrustDomain is the ID's trust domain name: example.org.
func (id ID) TrustDomain() string {
	if id.s == "" {
		return ""
	}
	return id.s[len(scheme):id.td]
}

// Path is the ID's path, "" or starting with a slash: /ns/shop/sa/checkout.
func (id ID) Path() string { return id.s[id.td:] }

// IsZero reports whether id is the zero ID, which no token carries.
func (id ID) IsZero() bool { return id.s == "" }

// MemberOf reports whether id is parent or lies under it, segment by
// segment, in the same trust domain: spiffe://example.org/ns/shop/sa/a is
// a member of spiffe://example.org/ns/shop, but
// spiffe://example.org/ns/shopping is not. Every ID of a trust domain is a
// member of the trust domain's own ID. Nothing is a member of the zero ID.
func (id ID) MemberOf(parent ID) bool {
	if id.IsZero() || parent.IsZero() || id.TrustDomain() != parent.TrustDomain() {
		return false
	}
	p := parent.Path()
	path := id.Path()
	return path == p || strings.HasPrefix(path, p) && path[len(p)] == '/'
}

// TrustDomainID is the ID of a trust domain alone, spiffe://example.org,
// from its name ("example.org") or that ID.
func TrustDomainID(td string) (ID, error) {
	s := td
	if !strings.HasPrefix(td, scheme) {
		s = scheme + td
	}
	id, err := ParseID(s)
	if err != nil {
		return ID{}, err
	}
	if id.Path() != "" {
		return ID{}, &idError{why: "a trust domain has no path"}
	}
	return id, nil
}
