package integration

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	fiber2 "github.com/gofiber/fiber/v2"
	fiber3 "github.com/gofiber/fiber/v3"
	echo4 "github.com/labstack/echo/v4"
	echo5 "github.com/labstack/echo/v5"
	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/bouncer-go/bouncer/adapters/bearerecho"
	"github.com/bouncer-go/bouncer/adapters/bearerecho5"
	"github.com/bouncer-go/bouncer/adapters/bearerfiber"
	"github.com/bouncer-go/bouncer/adapters/bearerfiber3"
	"github.com/bouncer-go/bouncer/adapters/bearergin"
	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/adapters/bearerhttp"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb"
)

// The policies a Keycloak user writes, each on a route of its own: a
// realm role (realm_access.roles), a client role of the API's client
// (resource_access.country-api.roles) and a scope.
var rolePolicies = map[string]bearer.Policy{
	"/realm-role":  bearer.RequireRole(kcRealmRole),
	"/client-role": bearer.RequireClientRole(kcAudience, kcClientRole),
	"/scope":       bearer.RequireScope("country.read"),
}

// TestKeycloakRoles drives RequireRole, RequireClientRole and RequireScope
// with Keycloak's tokens through every HTTP framework's adapter and
// through gRPC: country-client's service account holds the realm role and
// the client role, plain-client holds neither, nor the scope.
func TestKeycloakRoles(t *testing.T) {
	kc := sharedKeycloak(t)
	cfg := configFromEnv(t, map[string]string{"ISSUER_URL": kc.issuer, "AUDIENCE": kcAudience})
	bc := cfg.BearerConfig(quietLogger())
	// plain-client's tokens name only "account": accepting it here lets
	// the policies, not the audience, decide.
	bc.Audiences = []string{kcAudience, "account"}
	v, err := bearer.New(bc)
	if err != nil {
		t.Fatal(err)
	}
	holder := kc.token(t, kcCountryClient, kcCountrySecret, oauth2.AuthStyleInHeader)
	other := kc.testClientToken(t, kcPlainClient)
	c, err := v.Verify(t.Context(), holder)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("country-client: roles %v, client roles %v, scopes %v", c.Roles, c.ClientRoles, c.Scopes)

	for name, base := range roleServers(t, v) {
		t.Run(name, func(t *testing.T) {
			for path := range rolePolicies {
				if r := getAuth(t, base+path, "Bearer "+holder); r.status != http.StatusOK {
					t.Errorf("%s with the roles: %d %s %q", path, r.status, r.body, r.header.Get("WWW-Authenticate"))
				}
				r := getAuth(t, base+path, "Bearer "+other)
				if r.status != http.StatusForbidden {
					t.Errorf("%s without them: %d, want 403", path, r.status)
				}
			}
		})
	}
	t.Run("grpc", func(t *testing.T) {
		for path, p := range rolePolicies {
			target := roleGRPCServer(t, v, p)
			if code := callGetCountry(t, target, holder); code != codes.OK {
				t.Errorf("%s with the roles: %v", path, code)
			}
			if code := callGetCountry(t, target, other); code != codes.PermissionDenied {
				t.Errorf("%s without them: %v, want PermissionDenied", path, code)
			}
		}
	})
}

// roleServers serves rolePolicies with each HTTP framework's adapter and
// returns their base URLs by framework.
func roleServers(t *testing.T, v *bearer.Verifier) map[string]string {
	t.Helper()
	ok := []byte(`{"ok":true}`)
	servers := map[string]string{}
	serve := func(name string, h http.Handler) {
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		servers[name] = srv.URL
	}

	mux := http.NewServeMux()
	hm := bearerhttp.New(v)
	for path, p := range rolePolicies {
		mux.Handle("GET "+path, hm.Require(p)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(ok) })))
	}
	serve("nethttp", mux)

	g := gin.New()
	gm := bearergin.New(v)
	for path, p := range rolePolicies {
		g.GET(path, gm.Require(p), func(c *gin.Context) { c.Data(http.StatusOK, "application/json", ok) })
	}
	serve("gin", g)

	e4 := echo4.New()
	em := bearerecho.New(v)
	for path, p := range rolePolicies {
		e4.GET(path, func(c echo4.Context) error { return c.JSONBlob(http.StatusOK, ok) }, em.Require(p))
	}
	serve("echo", e4)

	e5 := echo5.New()
	em5 := bearerecho5.New(v)
	for path, p := range rolePolicies {
		e5.GET(path, func(c *echo5.Context) error { return c.JSONBlob(http.StatusOK, ok) }, em5.Require(p))
	}
	serve("echo5", e5)

	f2 := fiber2.New(fiber2.Config{DisableStartupMessage: true, ReadBufferSize: 32 << 10})
	fm := bearerfiber.New(v)
	for path, p := range rolePolicies {
		f2.Get(path, fm.Require(p), func(c *fiber2.Ctx) error { return c.Send(ok) })
	}
	l2 := listen(t)
	go func() { _ = f2.Listener(l2) }()
	t.Cleanup(func() { _ = f2.ShutdownWithTimeout(5 * time.Second) })
	servers["fiber"] = "http://" + l2.Addr().String()

	f3 := fiber3.New(fiber3.Config{ReadBufferSize: 32 << 10})
	fm3 := bearerfiber3.New(v)
	for path, p := range rolePolicies {
		f3.Get(path, fm3.Require(p), func(c fiber3.Ctx) error { return c.Send(ok) })
	}
	l3 := listen(t)
	go func() { _ = f3.Listener(l3, fiber3.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = f3.ShutdownWithTimeout(5 * time.Second) })
	servers["fiber3"] = "http://" + l3.Addr().String()
	return servers
}

// roleGRPCServer serves the country service with policy p on GetCountry
// and returns its address.
func roleGRPCServer(t *testing.T, v *bearer.Verifier, p bearer.Policy) string {
	t.Helper()
	auth := bearergrpc.New(v, bearergrpc.WithMethodPolicies(map[string][]bearer.Policy{
		countrypb.CountryService_GetCountry_FullMethodName: {p},
	}))
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(auth.Unary))
	countrypb.RegisterCountryServiceServer(srv, okCountry{})
	l := listen(t)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

type okCountry struct {
	countrypb.UnimplementedCountryServiceServer
}

func (okCountry) GetCountry(context.Context, *countrypb.GetCountryRequest) (*countrypb.Country, error) {
	return &countrypb.Country{Code: "AUS", Name: "AUSTRALIA"}, nil
}

// callGetCountry calls GetCountry at target with token and returns the
// status code.
func callGetCountry(t *testing.T, target, token string) codes.Code {
	t.Helper()
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), requestTimeout)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
	_, err = countrypb.NewCountryServiceClient(conn).GetCountry(ctx, &countrypb.GetCountryRequest{Code: "AUS"})
	return status.Code(err)
}
