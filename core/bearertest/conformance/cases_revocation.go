package conformance

import (
	"log/slog"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// revocationSuite is a verifier configuration whose Revoker has taken
// tokens back by each kind of rule: every adapter must refuse them as
// package bearer does (401 invalid_token, "the token was revoked"), on
// every route, and accept the tokens no rule covers.
func revocationSuite() suite {
	revoker, err := bearer.NewRevoker(bearer.RevokerConfig{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err) // the zero configuration is valid
	}
	return suite{
		name: "revoked tokens",
		edit: func(c *bearer.Config) { c.Revocation = revoker },
		cases: func(t *testing.T, iss *bearertest.Issuer) []testCase {
			return revocationCases(t, iss, revoker)
		},
	}
}

func revocationCases(t *testing.T, iss *bearertest.Issuer, revoker *bearer.Revoker) []testCase {
	t.Helper()
	now := time.Now()
	mint := func(claims map[string]any) string {
		claims["scope"] = Scope + " customer.read"
		return iss.MustMint(t, claims)
	}
	byJTI := mint(map[string]any{"jti": "revoked-jti", "client_id": "conformance-client"})
	byClient := mint(map[string]any{"client_id": "revoked-client"})
	afterClient := mint(map[string]any{"client_id": "revoked-client", "iat": now.Add(5 * time.Second).Unix()})
	bySubject := mint(map[string]any{"sub": "revoked-subject", "client_id": "conformance-client"})
	byHash := mint(map[string]any{"client_id": "conformance-client"})
	fine := mint(map[string]any{"client_id": "conformance-client"})
	if err := revoker.Revoke(t.Context(),
		bearer.Revocation{Kind: bearer.RevokeTokenID, Issuer: iss.URL(), Value: "revoked-jti"},
		bearer.Revocation{Kind: bearer.RevokeClientBefore, Issuer: iss.URL(), Value: "revoked-client", Before: now},
		bearer.Revocation{Kind: bearer.RevokeSubjectBefore, Issuer: iss.URL(), Value: "revoked-subject", Before: now.Add(time.Second)},
		bearer.Revocation{Kind: bearer.RevokeToken, Value: bearer.TokenHash(byHash)},
	); err != nil {
		t.Fatal(err)
	}
	var out []testCase
	for _, p := range []string{PathAuthenticated, PathScoped, PathPolicy, PathOptional} {
		out = append(out,
			testCase{name: "revoked by jti on " + p, path: p, header: bearerHeader(byJTI), status: 401},
			testCase{name: "revoked by client on " + p, path: p, header: bearerHeader(byClient), status: 401},
			testCase{name: "revoked by subject on " + p, path: p, header: bearerHeader(bySubject), status: 401},
			testCase{name: "revoked by hash on " + p, path: p, header: bearerHeader(byHash), status: 401},
			testCase{name: "not revoked on " + p, path: p, header: bearerHeader(fine), status: 200},
		)
	}
	out = append(out,
		testCase{name: "the client's token issued after the rule", path: PathScoped, header: bearerHeader(afterClient), status: 200},
		testCase{name: "revoked, asked again", path: PathScoped, header: bearerHeader(byClient), status: 401, repeat: true},
		testCase{name: "skipped route, revoked token", path: PathSkipped, header: bearerHeader(byJTI), status: 200},
	)
	return out
}
