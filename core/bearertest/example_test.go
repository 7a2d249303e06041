package bearertest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-jose/go-jose/v4"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// A test mints a token and checks it the way a resource server does: with
// the key that the issuer's JWKS publishes under the token's "kid".
func Example() {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("https://api.example"))
	if err != nil {
		log.Fatal(err)
	}
	defer iss.Close()

	tok, err := iss.Mint(map[string]any{"sub": "svc-orders", "scope": "orders:read"})
	if err != nil {
		log.Fatal(err)
	}

	resp, err := http.Get(iss.JWKSURL())
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var keys jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&keys); err != nil {
		log.Fatal(err)
	}

	jws, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		log.Fatal(err)
	}
	payload, err := jws.Verify(keys.Key(jws.Signatures[0].Header.KeyID)[0])
	if err != nil {
		log.Fatal(err)
	}
	var claims struct {
		Iss, Sub, Aud, Scope string
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		log.Fatal(err)
	}
	fmt.Println(claims.Iss == iss.URL(), claims.Sub, claims.Aud, claims.Scope)
	// Output: true svc-orders https://api.example orders:read
}

// Tokens that a verifier must reject are minted by removing or changing
// claims and headers, or by signing with a key the issuer never published.
func ExampleIssuer_Mint_invalid() {
	iss, err := bearertest.NewIssuer()
	if err != nil {
		log.Fatal(err)
	}
	defer iss.Close()

	stranger, err := bearertest.NewKey("ES256")
	if err != nil {
		log.Fatal(err)
	}
	for name, opts := range map[string][]bearertest.MintOption{
		"unknown key": {bearertest.WithKey(stranger)},
		"unsigned":    {bearertest.WithAlg("none")},
		"no typ":      {bearertest.WithHeader("typ", nil)},
	} {
		if _, err := iss.Mint(nil, opts...); err != nil {
			log.Fatal(name, err)
		}
	}
	noExp, err := iss.Mint(map[string]any{"exp": nil, "aud": "another-api"})
	fmt.Println(strings.Count(noExp, "."), err)
	// Output: 2 <nil>
}

// A client obtains a token from the token endpoint with the client
// credentials grant, as it would from a real authorization server.
func ExampleIssuer_TokenURL() {
	iss, err := bearertest.NewIssuer(bearertest.WithClient("orders", "s3cret", "orders:read", "orders:write"))
	if err != nil {
		log.Fatal(err)
	}
	defer iss.Close()

	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"orders:read"}}
	req, err := http.NewRequest(http.MethodPost, iss.TokenURL(), strings.NewReader(form.Encode()))
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape("orders"), url.QueryEscape("s3cret"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal(body, &tok); err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.StatusCode, tok.TokenType, tok.ExpiresIn, tok.Scope, tok.AccessToken != "")
	// Output: 200 Bearer 300 orders:read true
}

// Key rotation keeps the previous key published until it is retired, so a
// verifier can be tested across the overlap and after it.
func ExampleIssuer_RotateKeys() {
	iss, err := bearertest.NewIssuer()
	if err != nil {
		log.Fatal(err)
	}
	defer iss.Close()

	fmt.Println(len(iss.PublishedKeys()))
	iss.RotateKeys()
	fmt.Println(len(iss.PublishedKeys()))
	iss.RetireOldKeys()
	fmt.Println(len(iss.PublishedKeys()))
	// Output:
	// 1
	// 2
	// 1
}
