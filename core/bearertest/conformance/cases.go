package conformance

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

func cases(t *testing.T, iss *bearertest.Issuer) []testCase {
	t.Helper()
	now := time.Now()
	mint := func(claims map[string]any, opts ...bearertest.MintOption) string {
		if claims == nil {
			claims = map[string]any{}
		}
		if _, ok := claims["scope"]; !ok {
			claims["scope"] = Scope + " customer.read"
		}
		claims["client_id"] = "conformance-client"
		return iss.MustMint(t, claims, opts...)
	}
	stranger, err := bearertest.NewKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	good := mint(nil)
	parts := strings.Split(good, ".")

	var out []testCase
	add := func(name, path string, h http.Header, status int) {
		out = append(out, testCase{name: name, path: path, header: h, status: status})
	}
	for _, p := range []string{PathAuthenticated, PathScoped, PathPolicy} {
		add("accepted "+p, p, bearerHeader(good), 200)
	}
	for _, alg := range bearertest.CommonAlgorithms {
		add("accepted "+alg, PathScoped, bearerHeader(mint(nil, bearertest.WithAlg(alg))), 200)
	}
	add("scheme in lower case", PathScoped, http.Header{"Authorization": {"bearer " + good}}, 200)
	// The handlers of the requests above changed their claims (see Body):
	// the token's next request sees its own all the same.
	out = append(out, testCase{name: "accepted again after handlers changed their claims", path: PathPolicy, header: bearerHeader(good), status: 200, repeat: true})

	// Requests without usable credentials.
	add("no Authorization header", PathAuthenticated, nil, 401)
	add("no Authorization header on a scoped route", PathScoped, nil, 401)
	add("Basic scheme", PathScoped, http.Header{"Authorization": {"Basic Y2xpZW50OnNlY3JldA=="}}, 401)
	add("DPoP scheme", PathScoped, http.Header{"Authorization": {"DPoP " + good}}, 401)
	add("two Authorization headers", PathScoped, http.Header{"Authorization": {"Bearer " + good, "Bearer " + good}}, 400)
	add("empty bearer token", PathScoped, http.Header{"Authorization": {"Bearer "}}, 400)
	add("token with a space inside", PathScoped, http.Header{"Authorization": {"Bearer " + parts[0] + " " + parts[1]}}, 400)
	add("padding inside the token", PathScoped, bearerHeader(parts[0]+"=."+parts[1]+"."+parts[2]), 400)
	out = append(out, testCase{name: "query token when not enabled", path: PathScoped, query: "access_token=" + good, status: 401})

	// Tokens refused.
	refused := map[string]string{
		"garbage":                "not-a-token",
		"oversized token":        mint(map[string]any{"pad": strings.Repeat("x", 20<<10)}),
		"alg none":               mint(nil, bearertest.WithAlg("none")),
		"unknown kid":            mint(nil, bearertest.WithKey(stranger)),
		"bad signature":          parts[0] + "." + parts[1] + "." + strings.Split(mint(nil), ".")[2][:10] + parts[2][10:],
		"expired":                mint(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()}),
		"not yet valid":          mint(map[string]any{"nbf": now.Add(5 * time.Minute).Unix()}),
		"wrong issuer":           mint(map[string]any{"iss": "https://other.example"}),
		"wrong audience":         mint(map[string]any{"aud": "other-api"}),
		"no audience":            mint(map[string]any{"aud": nil}),
		"typ dpop+jwt":           mint(nil, bearertest.WithHeader("typ", "dpop+jwt")),
		"crit header":            mint(nil, bearertest.WithHeader("crit", []string{"b64"})),
		"encrypted token":        "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a.b.c.d",
		"HS256 header":           mint(nil, bearertest.WithHeader("alg", "HS256")),
		"time claim as a string": mint(map[string]any{"exp": "4102444800"}),
		"payload not JSON":       parts[0] + ".bm90IGpzb24." + parts[2],
	}
	for name, tok := range refused {
		add(name, PathScoped, bearerHeader(tok), 401)
	}

	// Optional authentication: no token passes without claims, a bad one
	// is refused all the same; a skipped route is not checked at all.
	add("optional, no token", PathOptional, nil, 200)
	add("optional, valid token", PathOptional, bearerHeader(good), 200)
	add("optional, expired token", PathOptional, bearerHeader(mint(map[string]any{"exp": now.Add(-2 * time.Minute).Unix()})), 401)
	add("optional, other scheme", PathOptional, http.Header{"Authorization": {"Basic Y2xpZW50OnNlY3JldA=="}}, 200)
	add("optional, two Authorization headers", PathOptional, http.Header{"Authorization": {"Bearer " + good, "Bearer " + good}}, 400)
	add("skipped, no token", PathSkipped, nil, 200)
	add("skipped, garbage token", PathSkipped, bearerHeader("not-a-token"), 200)

	// A token refused by the application's validator: 401, on every route.
	for _, p := range []string{PathAuthenticated, PathScoped, PathPolicy} {
		add("refused by a validator on "+p, p, bearerHeader(mint(map[string]any{"suspended": true})), 401)
	}

	// Valid tokens that lack a privilege.
	add("missing the route's scope", PathScoped, bearerHeader(mint(map[string]any{"scope": "customer.read"})), 403)
	add("no scope at all", PathScoped, bearerHeader(mint(map[string]any{"scope": nil})), 403)
	add("policy not met", PathPolicy, bearerHeader(mint(map[string]any{"scope": "country.write"})), 403)
	add("policy met through an app permission", PathPolicy, bearerHeader(mint(map[string]any{"scope": "country.write", "roles": []string{"Customer.Read.All"}})), 200)
	add("authenticated route needs no scope", PathAuthenticated, bearerHeader(mint(map[string]any{"scope": nil})), 200)
	return out
}
