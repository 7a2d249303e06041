package oidcprovider

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

func TestProvider(t *testing.T) {
	p := Start(t)

	jwks := fetchJWKS(t, p)

	t.Run("discovery", func(t *testing.T) {
		var meta struct {
			Issuer                string   `json:"issuer"`
			TokenEndpoint         string   `json:"token_endpoint"`
			JWKSURI               string   `json:"jwks_uri"`
			IntrospectionEndpoint string   `json:"introspection_endpoint"`
			RevocationEndpoint    string   `json:"revocation_endpoint"`
			GrantTypesSupported   []string `json:"grant_types_supported"`
		}
		getJSON(t, p, p.DiscoveryURL(), &meta)
		if meta.Issuer != p.Issuer {
			t.Errorf("discovery issuer = %q, want %q", meta.Issuer, p.Issuer)
		}
		for _, c := range []struct{ name, got, want string }{
			{"token_endpoint", meta.TokenEndpoint, p.TokenURL()},
			{"jwks_uri", meta.JWKSURI, p.JWKSURL()},
			{"introspection_endpoint", meta.IntrospectionEndpoint, p.IntrospectionURL()},
			{"revocation_endpoint", meta.RevocationEndpoint, p.RevocationURL()},
		} {
			if c.got != c.want {
				t.Errorf("discovery %s = %q, want %q", c.name, c.got, c.want)
			}
		}
		if !slices.Contains(meta.GrantTypesSupported, "client_credentials") {
			t.Errorf("grant_types_supported = %q, want client_credentials", meta.GrantTypesSupported)
		}
	})

	t.Run("jwks", func(t *testing.T) {
		var algs []string
		for _, k := range jwks {
			algs = append(algs, k.Alg)
			if k.Use != "sig" || k.Kid == "" {
				t.Errorf("key %+v: want use sig and a kid", k)
			}
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi"} {
				if _, ok := k.raw[private]; ok {
					t.Errorf("published key %s has private member %q", k.Kid, private)
				}
			}
		}
		slices.Sort(algs)
		if want := []string{"ES256", "EdDSA", "PS256", "RS256"}; !slices.Equal(algs, want) {
			t.Errorf("published algs = %q, want %q", algs, want)
		}
	})

	for _, c := range []struct{ resource, alg string }{
		{ResourceRS256, "RS256"},
		{ResourcePS256, "PS256"},
		{ResourceES256, "ES256"},
		{ResourceEdDSA, "EdDSA"},
	} {
		t.Run("jwt/"+c.alg, func(t *testing.T) {
			tok := p.Token(t, CountryClientID, CountryClientSecret, c.resource, ScopeCountryRead, ScopeCustomerRead)
			header, claims := decodeJWT(t, tok)
			if header["alg"] != c.alg {
				t.Errorf("alg = %v, want %s", header["alg"], c.alg)
			}
			if header["typ"] != "at+jwt" {
				t.Errorf("typ = %v, want at+jwt", header["typ"])
			}
			key, ok := jwks.byKid(header["kid"])
			if !ok || key.Alg != c.alg {
				t.Errorf("kid %v: want the published %s key, got %+v", header["kid"], c.alg, key)
			}
			checkClaims(t, p, claims, CountryClientID, Audience)
			if scopes := strings.Fields(str(claims["scope"])); !slices.Contains(scopes, ScopeCountryRead) || !slices.Contains(scopes, ScopeCustomerRead) {
				t.Errorf("scope = %q, want %s and %s", claims["scope"], ScopeCountryRead, ScopeCustomerRead)
			}
		})
	}

	t.Run("other audience", func(t *testing.T) {
		tok := p.Token(t, CountryClientID, CountryClientSecret, ResourceOther, ScopeCountryRead)
		header, claims := decodeJWT(t, tok)
		if header["alg"] != "RS256" {
			t.Errorf("alg = %v, want RS256", header["alg"])
		}
		checkClaims(t, p, claims, CountryClientID, OtherAudience)
	})

	t.Run("hs256 algorithm confusion", func(t *testing.T) {
		tok := p.Token(t, CountryClientID, CountryClientSecret, ResourceHS256, ScopeCountryRead)
		header, claims := decodeJWT(t, tok)
		if header["alg"] != "HS256" || header["typ"] != "at+jwt" {
			t.Errorf("header = %v, want alg HS256, typ at+jwt", header)
		}
		checkClaims(t, p, claims, CountryClientID, Audience)

		// The kid names the published RS256 key and the HMAC key is that
		// key's public half in PEM form.
		key, ok := jwks.byKid(header["kid"])
		if !ok || key.Alg != "RS256" {
			t.Fatalf("kid %v: want the published RS256 key, got %+v", header["kid"], key)
		}
		secret := rsaPublicPEM(t, key)
		dot := strings.LastIndexByte(tok, '.')
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(tok[:dot]))
		got, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
		if err != nil {
			t.Fatal(err)
		}
		if !hmac.Equal(got, mac.Sum(nil)) {
			t.Error("HS256 signature is not HMAC-SHA256 keyed with the RS256 public key PEM")
		}
	})

	t.Run("scopes", func(t *testing.T) {
		_, claims := decodeJWT(t, p.Token(t, CountryClientID, CountryClientSecret, ResourceRS256, ScopeCountryRead))
		if claims["scope"] != ScopeCountryRead {
			t.Errorf("scope = %v, want exactly %s", claims["scope"], ScopeCountryRead)
		}
		// Asking for no scope yields a token without a scope claim.
		_, claims = decodeJWT(t, p.Token(t, CountryClientID, CountryClientSecret, ResourceRS256))
		if v, ok := claims["scope"]; ok {
			t.Errorf("scope = %v, want no scope claim", v)
		}
		// Scopes unknown to the server are dropped silently.
		_, claims = decodeJWT(t, p.Token(t, CountryClientID, CountryClientSecret, ResourceRS256, ScopeCountryRead, "admin.write"))
		if claims["scope"] != ScopeCountryRead {
			t.Errorf("scope = %v, want exactly %s", claims["scope"], ScopeCountryRead)
		}
	})

	t.Run("limited client", func(t *testing.T) {
		_, claims := decodeJWT(t, p.Token(t, LimitedClientID, LimitedClientSecret, ResourceRS256, ScopeCustomerRead))
		if claims["scope"] != ScopeCustomerRead {
			t.Errorf("scope = %v, want %s", claims["scope"], ScopeCustomerRead)
		}
		checkClaims(t, p, claims, LimitedClientID, Audience)

		_, err := p.TokenErr(t.Context(), LimitedClientID, LimitedClientSecret, ResourceRS256, ScopeCountryRead)
		wantOAuthError(t, err, "invalid_scope")
	})

	t.Run("client_secret_post", func(t *testing.T) {
		_, claims := decodeJWT(t, p.Token(t, PostClientID, PostClientSecret, ResourceES256, ScopeCountryRead))
		checkClaims(t, p, claims, PostClientID, Audience)
		if cfg := p.Config(PostClientID, PostClientSecret, ResourceES256); cfg.AuthStyle != oauth2.AuthStyleInParams {
			t.Errorf("AuthStyle = %v, want credentials in the request body", cfg.AuthStyle)
		}
		// oidc-provider treats client_secret_basic and client_secret_post as
		// interchangeable, so the server cannot tell whether the body was used;
		// the AuthStyle above is what makes this a client_secret_post request.
	})

	t.Run("secret with special characters", func(t *testing.T) {
		_, claims := decodeJWT(t, p.Token(t, SpecialClientID, SpecialClientSecret, ResourceEdDSA, ScopeCountryRead))
		checkClaims(t, p, claims, SpecialClientID, Audience)
	})

	t.Run("refusals", func(t *testing.T) {
		_, err := p.TokenErr(t.Context(), CountryClientID, "wrong-secret", ResourceRS256, ScopeCountryRead)
		wantOAuthError(t, err, "invalid_client")
		_, err = p.TokenErr(t.Context(), CountryClientID, CountryClientSecret, "urn:bouncer:unknown", ScopeCountryRead)
		wantOAuthError(t, err, "invalid_target")
		// A client not registered for the grant: oidc-provider answers
		// invalid_request rather than unauthorized_client.
		_, err = p.TokenErr(t.Context(), IntrospectorClientID, IntrospectorClientSecret, ResourceRS256)
		wantOAuthError(t, err, "invalid_request")
	})

	t.Run("opaque", func(t *testing.T) {
		tok := p.Token(t, CountryClientID, CountryClientSecret, ResourceOpaque, ScopeCountryRead)
		if strings.Count(tok, ".") == 2 {
			t.Fatalf("token %q looks like a JWT, want an opaque token", tok)
		}
		info := p.Introspect(t, tok)
		if info["active"] != true {
			t.Fatalf("introspection = %v, want active", info)
		}
		for k, want := range map[string]any{
			"aud":        Audience,
			"client_id":  CountryClientID,
			"iss":        p.Issuer,
			"scope":      ScopeCountryRead,
			"token_type": "Bearer",
		} {
			if info[k] != want {
				t.Errorf("introspection %s = %v, want %v", k, info[k], want)
			}
		}

		p.Revoke(t, tok)
		if info := p.Introspect(t, tok); info["active"] != false {
			t.Errorf("introspection after revocation = %v, want inactive", info)
		}
		if info := p.Introspect(t, "not-a-token"); info["active"] != false {
			t.Errorf("introspection of garbage = %v, want inactive", info)
		}
	})

	// Last: it changes the JWKS for good.
	t.Run("withdraw", func(t *testing.T) {
		gone := jwks[0]
		p.Withdraw(t, gone.Kid)
		after := fetchJWKS(t, p)
		if len(after) != len(jwks)-1 {
			t.Fatalf("%d keys published after withdrawing one of %d", len(after), len(jwks))
		}
		for i, k := range after {
			if !reflect.DeepEqual(k.raw, jwks[i+1].raw) {
				t.Errorf("key %s changed: %v, was %v", k.Kid, k.raw, jwks[i+1].raw)
			}
		}
		// The withdrawn key still signs: its tokens name it.
		resource := map[string]string{"RS256": ResourceRS256, "PS256": ResourcePS256, "ES256": ResourceES256, "EdDSA": ResourceEdDSA}[gone.Alg]
		header, _ := decodeJWT(t, p.Token(t, CountryClientID, CountryClientSecret, resource, ScopeCountryRead))
		if kid := header["kid"]; kid != gone.Kid {
			t.Errorf("token kid %v, want the withdrawn %s", kid, gone.Kid)
		}
	})
}

func checkClaims(t *testing.T, p *Provider, claims map[string]any, clientID, audience string) {
	t.Helper()
	if claims["aud"] != audience {
		t.Errorf("aud = %v, want %s", claims["aud"], audience)
	}
	if claims["iss"] != p.Issuer {
		t.Errorf("iss = %v, want %s", claims["iss"], p.Issuer)
	}
	if claims["sub"] != clientID || claims["client_id"] != clientID {
		t.Errorf("sub = %v, client_id = %v, want both %s", claims["sub"], claims["client_id"], clientID)
	}
	if str(claims["jti"]) == "" {
		t.Error("jti is missing")
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	if now := float64(time.Now().Unix()); iat < now-60 || iat > now+60 {
		t.Errorf("iat = %v, want about %v", iat, now)
	}
	if got := time.Duration(exp-iat) * time.Second; got != AccessTokenTTL {
		t.Errorf("exp - iat = %v, want %v", got, AccessTokenTTL)
	}
}

func wantOAuthError(t *testing.T, err error, code string) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Errorf("error = %v, want an OAuth error %s", err, code)
		return
	}
	if re.ErrorCode != code {
		t.Errorf("error code = %q (%v), want %q", re.ErrorCode, err, code)
	}
}

func decodeJWT(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts, want 3", len(parts))
	}
	decode := func(s string) map[string]any {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("token segment: %v", err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("token segment: %v", err)
		}
		return m
	}
	return decode(parts[0]), decode(parts[1])
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

type jwk struct {
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	Kty string `json:"kty"`
	N   string `json:"n"`
	E   string `json:"e"`
	raw map[string]json.RawMessage
}

type jwkSet []jwk

func (s jwkSet) byKid(kid any) (jwk, bool) {
	for _, k := range s {
		if k.Kid == kid {
			return k, true
		}
	}
	return jwk{}, false
}

func fetchJWKS(t *testing.T, p *Provider) jwkSet {
	t.Helper()
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	getJSON(t, p, p.JWKSURL(), &doc)
	var set jwkSet
	for _, raw := range doc.Keys {
		var k jwk
		if err := json.Unmarshal(raw, &k); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &k.raw); err != nil {
			t.Fatal(err)
		}
		set = append(set, k)
	}
	return set
}

func rsaPublicPEM(t *testing.T, k jwk) []byte {
	t.Helper()
	n, err := base64.RawURLEncoding.DecodeString(k.N)
	if err != nil {
		t.Fatal(err)
	}
	e, err := base64.RawURLEncoding.DecodeString(k.E)
	if err != nil {
		t.Fatal(err)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func getJSON(t *testing.T, p *Provider, url string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
