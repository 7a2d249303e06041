package connectapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/core/bearertest"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb/countrypbconnect"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
)

// callTimeout bounds every call a test makes, so that a hung server fails
// the test instead of stalling the run.
const callTimeout = 15 * time.Second

// start runs the API as its command does, on a loopback port, until t
// ends, and returns its base URL and what it printed.
func start(t *testing.T, cfg countryapi.Config) (string, *exampletest.Output) {
	t.Helper()
	addr, out := exampletest.Start(t, Run, cfg)
	return countryapi.BaseURL(addr), out
}

// An answer is what a client of one protocol got from GetCountry: the
// country, or the code, message and challenge of the refusal.
type answer struct {
	country   *countrypb.Country
	code      string // connect's name of the code: "ok", "permission_denied"…
	message   string
	challenge string
}

// A caller calls GetCountry with the tokens of ts (none if nil).
type caller struct {
	name string
	call func(t *testing.T, base string, ts oauth2.TokenSource, code string) answer
}

// callers are a Connect client over each protocol the handler serves,
// and a gRPC client of grpc-go.
var callers = []caller{
	{"connect", connectCaller()},
	{"grpc-web", connectCaller(connecthttp.WithGRPCWeb())},
	{"grpc (connect client)", connectCaller(connecthttp.WithGRPC())},
	{"grpc (grpc-go)", grpcGo},
}

// connectCaller calls with a Connect client and opts, over HTTP/2 without
// TLS (which gRPC needs; the others would do with HTTP/1.1), sending the
// token with x/oauth2's HTTP client.
func connectCaller(opts ...connecthttp.Option) func(*testing.T, string, oauth2.TokenSource, string) answer {
	return func(t *testing.T, base string, ts oauth2.TokenSource, code string) answer {
		tr := &http.Transport{Protocols: new(http.Protocols)}
		tr.Protocols.SetUnencryptedHTTP2(true)
		t.Cleanup(tr.CloseIdleConnections)
		hc := &http.Client{Transport: tr, Timeout: callTimeout}
		if ts != nil {
			hc = oauth2.NewClient(context.WithValue(t.Context(), oauth2.HTTPClient, hc), ts)
		}
		c := countrypbconnect.NewCountryServiceClient(connect.NewClient(connecthttp.NewTransport(hc, base, opts...)))
		ctx, info := connect.NewClientContext(t.Context())
		got, err := c.GetCountry(ctx, &countrypb.GetCountryRequest{Code: code})
		if err != nil {
			ce, _ := errors.AsType[*connect.Error](err)
			return answer{code: connect.CodeOf(err).String(), message: ce.Message(), challenge: strings.Join(info.ResponseHeader().Values("WWW-Authenticate"), "\n")}
		}
		return answer{country: got, code: "ok"}
	}
}

// grpcGo calls as the gRPC example's client does, with bearergrpc's
// credentials; a refusal's challenge comes as a header from a server on
// net/http.
func grpcGo(t *testing.T, base string, ts oauth2.TokenSource, code string) answer {
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if ts != nil {
		opts = append(opts, grpc.WithPerRPCCredentials(bearergrpc.TokenSource(ts, bearergrpc.WithInsecureTransport())))
	}
	conn, err := grpc.NewClient(strings.TrimPrefix(base, "http://"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), callTimeout)
	defer cancel()
	var header metadata.MD
	got, err := countrypb.NewCountryServiceClient(conn).GetCountry(ctx, &countrypb.GetCountryRequest{Code: code}, grpc.Header(&header))
	if err != nil {
		st := status.Convert(err)
		return answer{code: connectCode(st.Code()), message: st.Message(), challenge: strings.Join(header.Get("www-authenticate"), "\n")}
	}
	return answer{country: got, code: "ok"}
}

// connectCode is the name Connect gives a gRPC code.
func connectCode(c codes.Code) string {
	if c == codes.OK {
		return "ok"
	}
	return connect.Code(c).String()
}

func tokens(t *testing.T, tokenURL, id, secret string, scopes ...string) oauth2.TokenSource {
	cc := clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: tokenURL, Scopes: scopes}
	return cc.TokenSource(context.WithValue(t.Context(), oauth2.HTTPClient, &http.Client{Timeout: callTimeout}))
}

// TestRun calls the API as Connect, gRPC-Web and gRPC clients: each gets
// the same answers, the refusals' challenges naming the API's metadata.
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
	base, _ := start(t, countryapi.Config{IssuerURL: iss.URL(), Audiences: []string{countryapi.DevAudience}})
	granted := tokens(t, iss.TokenURL(), "country-client", "s3cret", countryapi.ScopeCountryRead)
	limited := tokens(t, iss.TokenURL(), "limited-client", "limited", countryapi.ScopeCustomerRead)
	// The example accepts DPoP too, so every challenge comes with a DPoP
	// one.
	realm := `Bearer realm="country-api", resource_metadata="` + base + `/.well-known/oauth-protected-resource"`
	dpop := `DPoP algs="`

	for _, c := range callers {
		t.Run(c.name, func(t *testing.T) {
			for code, want := range map[string]string{"AUS": "AUSTRALIA", "nzl": "NEW ZEALAND"} {
				if got := c.call(t, base, granted, code); got.code != "ok" || got.country.GetCode() != strings.ToUpper(code) || got.country.GetName() != want {
					t.Errorf("%s: %+v; want %s", code, got, want)
				}
			}
			if got := c.call(t, base, granted, "XYZ"); got.code != "not_found" || got.message != countryapi.UnknownCountry().Description {
				t.Errorf("unknown code: %+v", got)
			}
			got := c.call(t, base, limited, "AUS")
			if got.code != "permission_denied" || !strings.HasPrefix(got.challenge, `Bearer realm="country-api", error="insufficient_scope"`) ||
				!strings.Contains(got.challenge, `scope="country.read"`) || !strings.Contains(got.challenge, "\n"+dpop) {
				t.Errorf("without the scope: %+v", got)
			}
			if got := c.call(t, base, nil, "AUS"); got.code != "unauthenticated" || !strings.HasPrefix(got.challenge, realm+"\n"+dpop) {
				t.Errorf("without a token: %+v; want the challenges %s and DPoP", got, realm)
			}
		})
	}

	// The Connect protocol is JSON over HTTP: curl's request, as the
	// development issuer's instructions print it, and its refusal is the
	// HTTP adapters' 401 with their challenge.
	t.Run("curl", func(t *testing.T) {
		tok, err := granted.Token()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			auth   string
			status int
			body   string
		}{
			{"Bearer " + tok.AccessToken, http.StatusOK, `{"code":"AUS","name":"AUSTRALIA"}`},
			{"", http.StatusUnauthorized, `{"code":"unauthenticated","message":"the request carries no bearer token"}`},
		} {
			resp, body := post(t, base+countrypbconnect.CountryServiceGetCountryProcedure, c.auth, `{"code":"AUS"}`)
			if resp.StatusCode != c.status || body != c.body {
				t.Errorf("%d %s; want %d %s", resp.StatusCode, body, c.status, c.body)
			}
			if ch := resp.Header.Values("WWW-Authenticate"); c.status == http.StatusUnauthorized && (len(ch) != 2 || ch[0] != realm || !strings.HasPrefix(ch[1], dpop)) {
				t.Errorf("WWW-Authenticate %q; want %q and DPoP's", ch, realm)
			}
		}
	})

	// The open HTTP routes beside the service: the metadata the challenges
	// name, and the health check.
	t.Run("metadata and health", func(t *testing.T) {
		for path, want := range map[string]string{
			"/.well-known/oauth-protected-resource": `"resource":"` + base + `"`,
			"/healthz":                              `{"status":"ok","issuer_ready":true}`,
		} {
			resp, err := http.Get(base + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
				t.Errorf("GET %s: %d %s; want %s", path, resp.StatusCode, body, want)
			}
		}
	})
}

func post(t *testing.T, url, auth, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Timeout: callTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var compact strings.Builder
	if json.Valid(b) {
		var v any
		_ = json.Unmarshal(b, &v)
		out, _ := json.Marshal(v)
		compact.Write(out)
	} else {
		compact.Write(b)
	}
	return resp, compact.String()
}

// TestRunDevIssuer runs the API with no ISSUER_URL, as `go run
// ./examples/connect` does, and follows the printed instructions.
func TestRunDevIssuer(t *testing.T) {
	cfg, err := countryapi.ConfigFromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	base, out := start(t, cfg)
	waitServing(t, base)
	printed := out.String()
	getCountry := base + countrypbconnect.CountryServiceGetCountryProcedure
	for _, want := range []string{"for development only", "client_id:      country-client", "CONNECT_URL=" + base,
		"GRPC_ADDR=" + strings.TrimPrefix(base, "http://"), `-d '{"code":"AUS"}' ` + getCountry} {
		if !strings.Contains(printed, want) {
			t.Errorf("output lacks %q:\n%s", want, printed)
		}
	}
	ts := tokens(t, exampletest.Field(t, printed, "token endpoint"), "country-client", exampletest.Field(t, printed, "client_secret"), countryapi.ScopeCountryRead)
	for _, c := range callers {
		if got := c.call(t, base, ts, "AUS"); got.code != "ok" || got.country.GetName() != "AUSTRALIA" {
			t.Errorf("%s: %+v", c.name, got)
		}
	}
}

// waitServing waits until the server at base serves: Run prints its
// instructions before it serves.
func waitServing(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(callTimeout)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/healthz: %v", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
