package integration

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"

	"github.com/bouncer-go/bouncer/examples/connect/connectapi"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb/countrypbconnect"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
	"github.com/bouncer-go/bouncer/examples/internal/exampletest"
	"github.com/bouncer-go/bouncer/examples/internal/oidcprovider"
)

// TestConnectWithOIDCProvider runs the Connect example as its command
// does, configured from the environment, against the real oidc-provider
// issuer, beside the net/http example as the reference. Tokens from the
// provider's token endpoint reach GetCountry over Connect, gRPC-Web and
// gRPC; refusals carry the code of the net/http example's status and its
// very WWW-Authenticate challenges; and the client example calls it over
// each protocol, with a DPoP-bound token too.
func TestConnectWithOIDCProvider(t *testing.T) {
	p := oidcprovider.Start(t)
	cfg := configFromEnv(t, map[string]string{"ISSUER_URL": p.Issuer, "AUDIENCE": oidcprovider.Audience, "RESOURCE_URL": resourceURL})
	addr, _ := exampletest.Start(t, connectapi.Run, cfg)
	base := countryapi.BaseURL(addr)
	ref, _ := startRun(t, examples[0], cfg)

	token := func(id, secret, resource string, scopes ...string) string {
		return p.Token(t, id, secret, resource, scopes...)
	}
	accepted := map[string]string{
		"RS256":              token(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceRS256, oidcprovider.ScopeCountryRead),
		"PS256":              token(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourcePS256, oidcprovider.ScopeCountryRead),
		"ES256":              token(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceES256, oidcprovider.ScopeCountryRead),
		"EdDSA":              token(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceEdDSA, oidcprovider.ScopeCountryRead),
		"client_secret_post": token(oidcprovider.PostClientID, oidcprovider.PostClientSecret, oidcprovider.ResourceES256, oidcprovider.ScopeCountryRead),
	}
	refused := []struct {
		name, auth string
		code       connect.Code
	}{
		{"no token", "", connect.CodeUnauthenticated},
		{"other audience", "Bearer " + token(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceOther, oidcprovider.ScopeCountryRead), connect.CodeUnauthenticated},
		{"insufficient scope", "Bearer " + token(oidcprovider.LimitedClientID, oidcprovider.LimitedClientSecret, oidcprovider.ResourceRS256, oidcprovider.ScopeCustomerRead), connect.CodePermissionDenied},
		{"HS256 algorithm confusion", "Bearer " + token(oidcprovider.CountryClientID, oidcprovider.CountryClientSecret, oidcprovider.ResourceHS256, oidcprovider.ScopeCountryRead), connect.CodeUnauthenticated},
		{"not a JWT", "Bearer not-a-jwt", connect.CodeUnauthenticated},
		{"Basic credentials", "Basic Y291bnRyeS1jbGllbnQ6Y291bnRyeS1zZWNyZXQ=", connect.CodeUnauthenticated},
		{"two Authorization headers", "Bearer a\nBearer b", connect.CodeInvalidArgument},
	}

	for _, proto := range []struct {
		name string
		opts []connecthttp.Option
	}{
		{"connect", nil},
		{"grpc-web", []connecthttp.Option{connecthttp.WithGRPCWeb()}},
		{"grpc", []connecthttp.Option{connecthttp.WithGRPC()}},
	} {
		t.Run(proto.name, func(t *testing.T) {
			tr := &http.Transport{Protocols: new(http.Protocols)}
			tr.Protocols.SetUnencryptedHTTP2(true) // for gRPC; Connect and gRPC-Web would do with HTTP/1.1
			t.Cleanup(tr.CloseIdleConnections)
			c := countrypbconnect.NewCountryServiceClient(connect.NewClient(connecthttp.NewTransport(&http.Client{Transport: tr, Timeout: requestTimeout}, base, proto.opts...)))
			call := func(auth string) (*countrypb.Country, *connect.CallInfo, error) {
				ctx, info := connect.NewClientContext(t.Context())
				for a := range strings.SplitSeq(auth, "\n") {
					if a != "" {
						info.RequestHeader().Add("Authorization", a)
					}
				}
				got, err := c.GetCountry(ctx, &countrypb.GetCountryRequest{Code: "AUS"})
				return got, info, err
			}
			for name, tok := range accepted {
				if got, _, err := call("Bearer " + tok); err != nil || got.GetName() != "AUSTRALIA" {
					t.Errorf("%s: %v, %v", name, got, err)
				}
			}
			for _, r := range refused {
				_, info, err := call(r.auth)
				if connect.CodeOf(err) != r.code {
					t.Errorf("%s: %v; want %v", r.name, err, r.code)
				}
				// The net/http example's answer to the same request.
				want := getHeaders(t, ref+"/country/code/AUS", r.auth)
				if len(want.Values("WWW-Authenticate")) == 0 {
					t.Fatalf("%s: the net/http example sent no challenge", r.name)
				}
				if got := info.ResponseHeader().Values("WWW-Authenticate"); !slices.Equal(got, want.Values("WWW-Authenticate")) {
					t.Errorf("%s: WWW-Authenticate %q; the net/http example sends %q", r.name, got, want.Values("WWW-Authenticate"))
				}
			}
		})
	}

	t.Run("client example", func(t *testing.T) {
		for _, c := range []struct {
			name string
			env  map[string]string
			want []string
		}{
			{"connect", map[string]string{"CONNECT_URL": base}, []string{"(connect)\nok\n"}},
			{"grpc-web", map[string]string{"CONNECT_URL": base, "CONNECT_PROTOCOL": "grpcweb"}, []string{"(grpcweb)\nok\n"}},
			{"grpc", map[string]string{"GRPC_ADDR": strings.TrimPrefix(base, "http://")}, []string{"\nOK\n"}},
			{"connect with DPoP", map[string]string{"CONNECT_URL": base, "DPOP": "1", "RESOURCE": oidcprovider.ResourceES256}, []string{"obtained a DPoP token", "(connect)\nok\n"}},
			{"grpc-web with DPoP", map[string]string{"CONNECT_URL": base, "CONNECT_PROTOCOL": "grpcweb", "DPOP": "1", "RESOURCE": oidcprovider.ResourceEdDSA}, []string{"obtained a DPoP token", "(grpcweb)\nok\n"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				env := map[string]string{
					"ISSUER_URL":    p.Issuer,
					"CLIENT_ID":     oidcprovider.CountryClientID,
					"CLIENT_SECRET": oidcprovider.CountryClientSecret,
					"SCOPES":        oidcprovider.ScopeCountryRead,
					"RESOURCE":      oidcprovider.ResourceRS256,
				}
				for k, v := range c.env {
					env[k] = v
				}
				out := runClient(t, p, env, nil)
				for _, want := range append(c.want, ausJSON) {
					if !strings.Contains(out, want) {
						t.Errorf("output lacks %q:\n%s", want, out)
					}
				}
			})
		}
		t.Run("refused", func(t *testing.T) {
			var runErr error
			out := runClient(t, p, map[string]string{
				"ISSUER_URL": p.Issuer, "CLIENT_ID": oidcprovider.LimitedClientID, "CLIENT_SECRET": oidcprovider.LimitedClientSecret,
				"SCOPES": oidcprovider.ScopeCustomerRead, "RESOURCE": oidcprovider.ResourceRS256, "CONNECT_URL": base,
			}, &runErr)
			if runErr == nil || !strings.Contains(runErr.Error(), "permission_denied") || !strings.Contains(out, `error="insufficient_scope"`) {
				t.Errorf("Run = %v; output:\n%s", runErr, out)
			}
		})
	})

	// A DPoP-bound token presented as Bearer, without its key: refused
	// alike by both examples (RFC 9449 §7.2).
	t.Run("bound token as Bearer", func(t *testing.T) {
		auth := "Bearer " + boundToken(t, p)
		ctx, info := connect.NewClientContext(t.Context())
		info.RequestHeader().Set("Authorization", auth)
		c := countrypbconnect.NewCountryServiceClient(connect.NewClient(connecthttp.NewTransport(testClient, base)))
		_, err := c.GetCountry(ctx, &countrypb.GetCountryRequest{Code: "AUS"})
		if ce, _ := errors.AsType[*connect.Error](err); connect.CodeOf(err) != connect.CodeUnauthenticated || !strings.Contains(ce.Message(), "cnf.jkt") {
			t.Errorf("%v", err)
		}
		if got, want := info.ResponseHeader().Values("WWW-Authenticate"), getHeaders(t, ref+"/country/code/AUS", auth).Values("WWW-Authenticate"); len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("WWW-Authenticate %q; the net/http example sends %q", got, want)
		}
	})
}

// getHeaders sends GET url with the Authorization headers of auth (lines;
// none when empty) and returns the answer's headers.
func getHeaders(t *testing.T, url, auth string) http.Header {
	t.Helper()
	req, err := http.NewRequestWithContext(context.WithoutCancel(t.Context()), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for a := range strings.SplitSeq(auth, "\n") {
		if a != "" {
			req.Header.Add("Authorization", a)
		}
	}
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Header
}
