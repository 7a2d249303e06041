package grpcapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
)

// callTimeout bounds every call a test makes, so that a hung server fails
// the test instead of stalling the run.
const callTimeout = 15 * time.Second

// start runs the API as its command does, on a loopback port, until t
// ends, and returns the address to dial and what it printed.
func start(t *testing.T, cfg countryapi.Config) (string, *exampletest.Output) {
	t.Helper()
	addr, out := exampletest.Start(t, Run, cfg)
	return Target(addr), out
}

// connect dials target as the client example does: the tokens of ts (none
// if nil) go with every call, in plaintext because the test server is on
// loopback.
func connect(t *testing.T, target string, ts oauth2.TokenSource) countrypb.CountryServiceClient {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if ts != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(bearergrpc.TokenSource(ts, bearergrpc.WithInsecureTransport())))
	}
	conn, err := grpc.NewClient(target, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return countrypb.NewCountryServiceClient(conn)
}

func tokens(t *testing.T, tokenURL, id, secret string, scopes ...string) oauth2.TokenSource {
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: tokenURL, Scopes: scopes}
	return cc.TokenSource(context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: callTimeout}))
}

// getCountry calls GetCountry for code and returns the answer, or the
// status and the www-authenticate trailer of the refusal.
func getCountry(t *testing.T, c countrypb.CountryServiceClient, code string) (*countrypb.Country, *status.Status, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	var trailer metadata.MD
	got, err := c.GetCountry(ctx, &countrypb.GetCountryRequest{Code: code}, grpc.Trailer(&trailer))
	return got, status.Convert(err), strings.Join(trailer.Get("www-authenticate"), "\n")
}

func TestRun(t *testing.T) {
	iss, err := bearertest.NewIssuer(
		bearertest.WithAudience(countryapi.DevAudience),
		bearertest.WithClient("country-client", "s3cret", countryapi.ScopeCountryRead),
		bearertest.WithClient("limited-client", "limited", countryapi.ScopeCustomerRead),
	)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(iss.Close)
	target, _ := start(t, countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{countryapi.DevAudience}})

	granted := connect(t, target, tokens(t, iss.TokenURL(), "country-client", "s3cret", countryapi.ScopeCountryRead))
	for code, want := range map[string]string{"AUS": "AUSTRALIA", "nzl": "NEW ZEALAND"} {
		got, st, _ := getCountry(t, granted, code)
		if st.Code() != codes.OK || got.GetCode() != strings.ToUpper(code) || got.GetName() != want {
			t.Errorf("%s: %v, %v; want %s", code, got, st, want)
		}
	}
	if _, st, _ := getCountry(t, granted, "XYZ"); st.Code() != codes.NotFound {
		t.Errorf("unknown code: %v", st)
	}

	limited := connect(t, target, tokens(t, iss.TokenURL(), "limited-client", "limited", countryapi.ScopeCustomerRead))
	_, st, challenge := getCountry(t, limited, "AUS")
	if st.Code() != codes.PermissionDenied || !strings.Contains(challenge, `error="insufficient_scope"`) || !strings.Contains(challenge, `scope="country.read"`) {
		t.Errorf("without the scope: %v, www-authenticate %q", st, challenge)
	}

	anonymous := connect(t, target, nil)
	if _, st, challenge := getCountry(t, anonymous, "AUS"); st.Code() != codes.Unauthenticated || challenge != `Bearer realm="country-api"` {
		t.Errorf("without a token: %v, www-authenticate %q", st, challenge)
	}
}

// TestRunDevIssuer runs the API with no ISSUER_URL, as `go run
// ./examples/grpc` does, and follows the printed instructions.
func TestRunDevIssuer(t *testing.T) {
	cfg, err := countryapi.ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	target, out := start(t, cfg)
	waitServing(t, target)

	printed := out.String()
	for _, want := range []string{"for development only", "client_id:      country-client", "GRPC_ADDR=" + target + " go run ./examples/client"} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	// Only commands of this repository: a tool to install from elsewhere
	// would need saying where it comes from.
	if strings.Contains(printed, "grpcurl") {
		t.Errorf("output names grpcurl, which this repository does not provide:\n%s", printed)
	}
	c := connect(t, target, tokens(t, exampletest.Field(t, printed, "token endpoint"), "country-client", exampletest.Field(t, printed, "client_secret"), countryapi.ScopeCountryRead))
	if got, st, _ := getCountry(t, c, "AUS"); st.Code() != codes.OK || got.GetName() != "AUSTRALIA" {
		t.Fatalf("AUS: %v, %v", got, st)
	}
}

// With DEV_TOKENS=opaque the development issuer issues opaque tokens, which
// the API introspects, as the HTTP examples do.
func TestRunDevIssuerOpaque(t *testing.T) {
	cfg, err := countryapi.ConfigFromEnv(func(k string) string { return map[string]string{"DEV_TOKENS": "opaque"}[k] })
	if err != nil {
		t.Fatal(err)
	}
	target, out := start(t, cfg)
	waitServing(t, target)
	ts := tokens(t, exampletest.Field(t, out.String(), "token endpoint"), "country-client", exampletest.Field(t, out.String(), "client_secret"), countryapi.ScopeCountryRead)
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tok.AccessToken, ".") == 2 {
		t.Fatalf("%q is a JWT; want an opaque token", tok.AccessToken)
	}
	if got, st, _ := getCountry(t, connect(t, target, ts), "AUS"); st.Code() != codes.OK || got.GetName() != "AUSTRALIA" {
		t.Fatalf("AUS: %v, %v", got, st)
	}
}

// waitServing waits until the server at target serves. The health
// service is open; answering it shows the server serves, and Run prints
// before it serves.
func waitServing(t *testing.T, target string) {
	t.Helper()
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	health, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.WaitForReady(true))
	if err != nil || health.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v, %v", health, err)
	}
}
