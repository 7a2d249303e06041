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
// prints to w the client's credentials, then howTo: commands, ready to
// paste, that try the API with them (see TokenCommand and ClientCommand).
// The commands go to w rather than the log so that they stay copyable.
func (d *DevIssuer) Announce(logger *slog.Logger, w io.Writer, howTo string) {
	logger.Warn("no ISSUER_URL: started the embedded development issuer; FOR DEVELOPMENT ONLY, never in production (set ISSUER_URL and AUDIENCE to use a real issuer)",
		"issuer", d.URL(), "client_id", d.ClientID, "audience", d.Audience)
	fmt.Fprintf(w, `
Development issuer (for development only, never in production)
  issuer:         %s
  token endpoint: %s
  client_id:      %s
  client_secret:  %s
  audience:       %s
  scopes:         %s %s

%s`, d.URL(), d.TokenURL(), d.ClientID, d.ClientSecret, d.Audience, ScopeCountryRead, ScopeCustomerRead, howTo)
}

// TokenCommand is the shell command, run from the repository's root, that
// gets the client a token with scope country.read (client_secret_basic)
// into $TOKEN, with bouncer's own command. When the issuer refuses, the
// command prints the issuer's error and fails, so that a recipe chaining
// it with && stops there rather than calling the API with no token.
func (d *DevIssuer) TokenCommand() string {
	return fmt.Sprintf(`TOKEN=$(BOUNCER_CLIENT_SECRET='%s' go run ./cmd/bouncer token --issuer %s --client-id %s --scope %s)`,
		d.ClientSecret, d.URL(), d.ClientID, ScopeCountryRead)
}

// ClientCommand is the command that runs the client example as the
// client, with scope country.read, against the API that target names
// (API_URL=…, GRPC_ADDR=… or MCP_URL=…).
func (d *DevIssuer) ClientCommand(target string) string {
	return fmt.Sprintf("ISSUER_URL=%s CLIENT_ID=%s CLIENT_SECRET=%s SCOPES=%s %s go run ./examples/client",
		d.URL(), d.ClientID, d.ClientSecret, ScopeCountryRead, target)
}

// httpHowTo is how to call the country lookup of the HTTP API at apiURL.
func (d *DevIssuer) httpHowTo(apiURL string) string {
	countryURL := apiURL + "/country/code/AUS"
	return fmt.Sprintf(`Get a token (client_secret_basic) and call the API:

  %s &&
  curl -i -H "Authorization: Bearer $TOKEN" %s

Or with the client example:

  %s

`, d.TokenCommand(), countryURL, d.ClientCommand("API_URL="+countryURL))
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
