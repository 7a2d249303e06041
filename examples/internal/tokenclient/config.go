package tokenclient

import (
	"errors"
	"fmt"
	"strings"
)

// DefaultAPIURL is the example API's country lookup on its default port.
const DefaultAPIURL = "http://localhost:8091/country/code/AUS"

// Config says where to get a token and what to call with it.
type Config struct {
	// IssuerURL is the issuer; its token endpoint is found through OpenID
	// Connect discovery. Ignored when TokenURL is set.
	IssuerURL string
	// TokenURL is the token endpoint, for issuers without discovery.
	TokenURL     string
	ClientID     string
	ClientSecret string
	// Scopes to ask for; none means whatever the issuer grants by default.
	Scopes []string
	// Resource is the RFC 8707 resource indicator, for issuers that choose
	// the token's audience by it.
	Resource string
	// Audience is sent as the audience parameter, which Ory Hydra and
	// fosite (and Auth0) grant the token's audience from; space-separated
	// for several.
	Audience string
	// DPoP makes the client hold a DPoP key (RFC 9449): its token is bound
	// to the key and every request carries a proof.
	DPoP bool
	// APIURL is the protected URL to GET.
	APIURL string
	// GRPCAddr, when set, is the address of the gRPC country API to call
	// instead of APIURL.
	GRPCAddr string
	// MCPURL, when set, is the endpoint of the MCP country server whose
	// tool to call instead of APIURL.
	MCPURL string
	// ConnectURL, when set, is the base URL of the Connect country API
	// (examples/connect) to call GetCountry on instead of APIURL.
	ConnectURL string
	// ConnectProtocol is "connect" (the default) or "grpcweb": how to
	// call ConnectURL. gRPC clients call it with GRPCAddr.
	ConnectProtocol string
}

// ConfigFromEnv reads ISSUER_URL or TOKEN_URL, CLIENT_ID, CLIENT_SECRET,
// SCOPES (space- or comma-separated), RESOURCE, AUDIENCE, DPOP (1 to use
// DPoP), API_URL, GRPC_ADDR, MCP_URL, CONNECT_URL and CONNECT_PROTOCOL
// through getenv.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := Config{
		IssuerURL:    strings.TrimSpace(getenv("ISSUER_URL")),
		TokenURL:     strings.TrimSpace(getenv("TOKEN_URL")),
		ClientID:     getenv("CLIENT_ID"),
		ClientSecret: getenv("CLIENT_SECRET"),
		Scopes:       strings.FieldsFunc(getenv("SCOPES"), func(r rune) bool { return r == ',' || r == ' ' }),
		Resource:     strings.TrimSpace(getenv("RESOURCE")),
		Audience:     strings.TrimSpace(getenv("AUDIENCE")),
		DPoP:         strings.TrimSpace(getenv("DPOP")) == "1",
		APIURL:       strings.TrimSpace(getenv("API_URL")),
		GRPCAddr:     strings.TrimSpace(getenv("GRPC_ADDR")),
		MCPURL:       strings.TrimSpace(getenv("MCP_URL")),
		ConnectURL:   strings.TrimSpace(getenv("CONNECT_URL")),
	}
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	var errs []error
	switch p := strings.TrimSpace(getenv("CONNECT_PROTOCOL")); p {
	case "", "connect", "grpcweb":
		cfg.ConnectProtocol = p
	default:
		errs = append(errs, fmt.Errorf("CONNECT_PROTOCOL is %q: connect or grpcweb (gRPC clients use GRPC_ADDR)", p))
	}
	if cfg.IssuerURL == "" && cfg.TokenURL == "" {
		errs = append(errs, errors.New("set ISSUER_URL (the token endpoint is then discovered) or TOKEN_URL"))
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		errs = append(errs, errors.New("set CLIENT_ID and CLIENT_SECRET"))
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return cfg, nil
}
