package countryapi

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"

	"github.com/bouncer-go/bouncer/core/bearertest"
)

// DevClientID is the client registered with the development issuer.
const DevClientID = "country-client"

// DevAPIClientID is the client the API itself introspects opaque tokens as,
// when the development issuer issues them.
const DevAPIClientID = "country-api"

// DevIssuer is an in-process OAuth2 issuer, so that an example runs, and
// can be tried with curl, without an identity provider. It is for
// development only: its keys live in memory and anyone who can reach it
// with the printed secret obtains tokens.
type DevIssuer struct {
	issuer       *bearertest.Issuer
	ClientID     string
	ClientSecret string
	Audience     string
	APISecret    string // DevAPIClientID's secret, for introspection
}

// StartDevIssuer starts a development issuer on a free loopback port whose
// tokens name audience, with one client, DevClientID, holding a fresh random
// secret and the scopes country.read and customer.read. With opaque, its
// tokens are opaque and the API introspects them as DevAPIClientID.
func StartDevIssuer(audience string, opaque bool) (*DevIssuer, error) {
	secret, apiSecret := rand.Text(), rand.Text()
	opts := []bearertest.Option{
		bearertest.WithAudience(audience),
		bearertest.WithKeysFor(bearertest.CommonAlgorithms...),
		bearertest.WithClient(DevClientID, secret, ScopeCountryRead, ScopeCustomerRead),
		bearertest.WithClient(DevAPIClientID, apiSecret),
	}
	if opaque {
		opts = append(opts, bearertest.WithOpaqueTokens())
	}
	iss, err := bearertest.NewIssuer(opts...)
	if err != nil {
		return nil, fmt.Errorf("starting the development issuer: %w", err)
	}
	return &DevIssuer{issuer: iss, ClientID: DevClientID, ClientSecret: secret, Audience: audience, APISecret: apiSecret}, nil
}

// URL is the issuer identifier, to use as ISSUER_URL.
func (d *DevIssuer) URL() string { return d.issuer.URL() }

// TokenURL is the token endpoint.
func (d *DevIssuer) TokenURL() string { return d.issuer.TokenURL() }

// Close stops the issuer.
func (d *DevIssuer) Close() { d.issuer.Close() }

// Announce warns in the log that the development issuer is running, and
// prints to w the client's credentials with commands, ready to paste, that
// get a token and call the API at apiURL with it. The commands go to w
// rather than the log so that they stay copyable.
func (d *DevIssuer) Announce(logger *slog.Logger, w io.Writer, apiURL string) {
	logger.Warn("no ISSUER_URL: started the embedded development issuer; FOR DEVELOPMENT ONLY, never in production (set ISSUER_URL and AUDIENCE to use a real issuer)",
		"issuer", d.URL(), "client_id", d.ClientID, "audience", d.Audience)
	countryURL := apiURL + "/country/code/AUS"
	fmt.Fprintf(w, `
Development issuer (for development only, never in production)
  issuer:         %[1]s
  token endpoint: %[2]s
  client_id:      %[3]s
  client_secret:  %[4]s
  audience:       %[5]s
  scopes:         %[6]s %[7]s

Get a token (client_secret_basic) and call the API:

  TOKEN=$(curl -s -u '%[3]s:%[4]s' -d grant_type=client_credentials -d scope=%[6]s %[2]s | sed -E 's/.*"access_token":"([^"]*)".*/\1/')
  curl -i -H "Authorization: Bearer $TOKEN" %[8]s

Or with the client example:

  ISSUER_URL=%[1]s CLIENT_ID=%[3]s CLIENT_SECRET=%[4]s SCOPES=%[6]s API_URL=%[8]s go run ./examples/client

`, d.URL(), d.TokenURL(), d.ClientID, d.ClientSecret, d.Audience, ScopeCountryRead, ScopeCustomerRead, countryURL)
}

// BaseURL is the URL a local client reaches a listener at: a wildcard
// address such as ":8091" is reached as localhost.
func BaseURL(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return "http://" + addr.String()
	}
	if tcp.IP.IsUnspecified() {
		return "http://localhost:" + strconv.Itoa(tcp.Port)
	}
	return "http://" + net.JoinHostPort(tcp.IP.String(), strconv.Itoa(tcp.Port))
}
