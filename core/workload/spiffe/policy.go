package spiffe

import (
	"context"
	"fmt"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// IDOf is the SPIFFE ID of the workload a verified token speaks for: its
// sub. It fails for a token whose sub is no SPIFFE ID, which a Verifier
// configured by Bearer never accepts.
func IDOf(c *bearer.Claims) (ID, error) {
	return ParseID(c.Subject)
}

// memberValidator refuses tokens whose sub is not a SPIFFE ID of td: the
// keys of one trust domain vouch for its own workloads alone.
func memberValidator(td ID) bearer.Validator {
	why := fmt.Sprintf("the token's sub is not a SPIFFE ID of the trust domain %s", td.TrustDomain())
	return bearer.ValidatorFunc(func(_ context.Context, c *bearer.Claims) error {
		id, err := IDOf(c)
		if err != nil || !id.MemberOf(td) {
			return bearer.NewInvalidToken(why)
		}
		return nil
	})
}

// RequireID grants access to the workloads whose SPIFFE ID is one of ids,
// exactly. A zero ID matches nothing.
func RequireID(ids ...ID) bearer.Policy {
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = id.String()
	}
	why := "the caller's SPIFFE ID is none of " + strings.Join(names, ", ")
	return bearer.PolicyFunc(func(c *bearer.Claims) error {
		id, err := IDOf(c)
		if err == nil {
			for _, want := range ids {
				if !want.IsZero() && id == want {
					return nil
				}
			}
		}
		return bearer.NewInsufficientScope(why)
	})
}

// RequireMemberOf grants access to the workloads whose SPIFFE ID is one of
// parents or lies under one, segment by segment, in its trust domain (see
// ID.MemberOf): RequireMemberOf(MustParseID("spiffe://example.org/ns/shop"))
// admits spiffe://example.org/ns/shop/sa/checkout, not
// spiffe://example.org/ns/shopping. A zero ID admits nothing.
func RequireMemberOf(parents ...ID) bearer.Policy {
	names := make([]string, len(parents))
	for i, p := range parents {
		names[i] = p.String()
	}
	why := "the caller's SPIFFE ID is not under " + strings.Join(names, ", ")
	return bearer.PolicyFunc(func(c *bearer.Claims) error {
		id, err := IDOf(c)
		if err == nil {
			for _, p := range parents {
				if id.MemberOf(p) {
					return nil
				}
			}
		}
		return bearer.NewInsufficientScope(why)
	})
}
