package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"

	"github.com/bouncer-go/bouncer/adapters/bearerredis"
	"github.com/bouncer-go/bouncer/core/bearer"
)

// Gateway is one configuration made ready to answer: its issuers'
// verifiers, its routes, the headers it sets upstream. It is immutable;
// a reload builds a new one (see Server).
type Gateway struct {
	cfg             *Config
	checker         bearer.Checker
	routes          []*route
	headers         *claimHeaders
	proxies         []netip.Prefix
	origins         map[string]origin // DPoP: host → public origin; "*" for the rest
	forwardedOrigin bool
	mtls            string // "", "xfcc" or "header"
	allowForm       bool
	metadata        *bearer.ResourceMetadata
	log             *slog.Logger
	rdb             *redis.Client

	untrustedLog rateLimit
	checks       metric.Int64Counter // nil without metrics

	// refs counts requests in flight, so that a retired Gateway closes
	// what it holds only once none uses it any more.
	refs      atomic.Int64
	retired   atomic.Bool
	closed    atomic.Bool
	closeOnce sync.Once
}

// origin is a DPoP public URL: the origin clients write in htu and the
// path prefix the proxy removes.
type origin struct{ proto, host, prefix string }

// Options are what New needs beyond the file.
type Options struct {
	// Logger receives the gateway's and the verifiers' logs. Nil means
	// slog.Default().
	Logger *slog.Logger
	// Observer receives every verifier's events (see adapters/bearerotel).
	Observer bearer.Observer

	// checker, in tests, replaces the verifiers the issuers would give.
	checker bearer.Checker
	// checks counts the checks answered (see metrics).
	checks metric.Int64Counter
}

// New builds the Gateway cfg describes. Like bearer.New it fetches
// nothing: an issuer that is down does not stop it. Package bearer's
// refusals of the issuers' settings are reported at their lines.
func New(cfg *Config, opts Options) (*Gateway, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	g := &Gateway{cfg: cfg, log: log, headers: newClaimHeaders(cfg.UpstreamHeaders), allowForm: cfg.Tokens.AllowFormBody, checks: opts.checks}
	for i, r := range cfg.Routes {
		rt, err := newRoute(i, r)
		if err != nil {
			return nil, cfg.errorAt(fmt.Sprintf("routes[%d]", i), "%v", err)
		}
		g.routes = append(g.routes, rt)
	}
	proxies := cfg.TrustedProxies
	if len(proxies) == 0 {
		proxies = []string{"127.0.0.0/8", "::1"}
	}
	for _, p := range proxies {
		prefix, err := parsePrefix(p)
		if err != nil {
			return nil, cfg.errorAt("trusted-proxies", "%q is neither an IP address nor a CIDR range", p)
		}
		g.proxies = append(g.proxies, prefix)
	}
	if d := cfg.DPoP; d != nil {
		g.forwardedOrigin = d.ForwardedOrigin
		g.origins = map[string]origin{}
		for host, u := range d.PublicURLs {
			o, err := parseOrigin(u)
			if err != nil {
				return nil, cfg.errorAt("dpop.public-urls."+host, "%v", err)
			}
			g.origins[strings.ToLower(host)] = o
		}
	}
	if cfg.MTLS != nil {
		g.mtls = cfg.MTLS.Source
	}
	if cfg.Redis != nil {
		ropts, err := redis.ParseURL(cfg.Redis.URL)
		if err != nil {
			return nil, cfg.errorAt("redis.url", "%v", err)
		}
		if cfg.Redis.Password != "" {
			ropts.Password = cfg.Redis.Password
		}
		g.rdb = redis.NewClient(ropts)
	}
	g.checker = opts.checker
	if g.checker == nil {
		c, err := g.buildChecker(opts)
		if err != nil {
			g.close()
			return nil, err
		}
		g.checker = c
	}
	if m := cfg.ResourceMetadata; m != nil {
		md := &bearer.ResourceMetadata{
			Resource:               m.Resource,
			AuthorizationServers:   m.AuthorizationServers,
			ScopesSupported:        m.ScopesSupported,
			BearerMethodsSupported: []string{"header"},
			ResourceName:           m.ResourceName,
			ResourceDocumentation:  m.ResourceDocumentation,
		}
		if len(md.AuthorizationServers) == 0 {
			if as, ok := g.checker.(interface{ AuthorizationServers() []string }); ok {
				md.AuthorizationServers = as.AuthorizationServers()
			} else {
				for _, is := range cfg.Issuers {
					md.AuthorizationServers = append(md.AuthorizationServers, is.IssuerURI)
				}
			}
		}
		if len(md.ScopesSupported) == 0 {
			md.ScopesSupported = scopesOf(g.routes)
		}
		if cfg.Tokens.AllowFormBody {
			md.BearerMethodsSupported = append(md.BearerMethodsSupported, "body")
		}
		if cfg.Tokens.AllowQuery {
			md.BearerMethodsSupported = append(md.BearerMethodsSupported, "query")
		}
		g.metadata = md
	}
	return g, nil
}

// buildChecker makes the verifiers: one bearer.Verifier for one issuer, a
// bearer.MultiVerifier for several. The request-reading settings (tokens,
// DPoP, mTLS) are the gateway's and go to every issuer alike.
func (g *Gateway) buildChecker(opts Options) (bearer.Checker, error) {
	cfg := g.cfg
	var store *bearerredis.Store
	if g.rdb != nil {
		var ro []bearerredis.Option
		if cfg.Redis.Prefix != "" {
			ro = append(ro, bearerredis.WithPrefix(cfg.Redis.Prefix))
		}
		if cfg.Redis.Timeout > 0 {
			ro = append(ro, bearerredis.WithTimeout(cfg.Redis.Timeout))
		}
		store = bearerredis.New(g.rdb, ro...)
	}
	var configs []bearer.Config
	for i, is := range cfg.Issuers {
		bc := bearer.Config{
			Issuer:                      is.IssuerURI,
			JWKSURL:                     is.JWKSetURI,
			JWKSFile:                    is.JWKSFile,
			Tenants:                     is.Tenants,
			DiscoveryTenant:             is.DiscoveryTenant,
			InsecureAllowHTTP:           is.InsecureAllowHTTP,
			AllowRedirectsAcrossOrigins: is.AllowRedirectsAcrossOrigins,
			Audiences:                   is.Audiences,
			InsecureAcceptAnyAudience:   is.InsecureAcceptAnyAudience,
			Algorithms:                  is.JWSAlgorithms,
			Leeway:                      is.ClockSkew,
			RequireAccessTokenType:      is.RequireAccessTokenType,
			StrictRFC9068:               is.StrictRFC9068,
			Claims: bearer.ClaimMapping{
				Scopes:              is.Claims.Scopes,
				Roles:               is.Claims.Roles,
				ClientID:            is.Claims.ClientID,
				StripPrefixes:       is.Claims.StripPrefixes,
				ClientIDFromSubject: is.Claims.ClientIDFromSubject,
			},
			MaxTokenLifetime: is.MaxTokenLifetime,
			MaxTokenBytes:    is.MaxTokenBytes,
			TokenHeader:      cfg.Tokens.Header,
			TokenCookie:      cfg.Tokens.Cookie,
			AllowQueryToken:  cfg.Tokens.AllowQuery,
			AllowFormToken:   cfg.Tokens.AllowFormBody,
			Realm:            cfg.Realm,
			FetchTimeout:     is.FetchTimeout,
			RefetchCooldown:  is.RefetchCooldown,
			KeyMaxAge:        is.KeyMaxAge,
			MaxStale:         is.MaxStale,
			MaxKeys:          is.MaxKeys,
			Logger:           g.log,
			Observer:         opts.Observer,
			Cache:            bearer.CacheConfig{MaxEntries: cfg.Cache.MaxEntries, MaxBytes: cfg.Cache.MaxBytes, Disable: cfg.Cache.Disable},
		}
		if md := cfg.ResourceMetadata; md != nil {
			bc.ResourceMetadata = metadataURL(md.Resource)
		}
		for _, name := range is.RequiredClaims {
			bc.Validators = append(bc.Validators, bearer.RequireClaim(name))
		}
		for _, name := range sortedKeys(is.ClaimValues) {
			bc.Validators = append(bc.Validators, bearer.ClaimOneOf(name, is.ClaimValues[name]...))
		}
		if is.MaxTokenAge > 0 {
			bc.Validators = append(bc.Validators, bearer.MaxTokenAge(is.MaxTokenAge))
		}
		if in := is.Introspection; in != nil {
			bc.Introspection = &bearer.Introspection{
				URL:          in.IntrospectionURI,
				ClientID:     in.ClientID,
				ClientSecret: in.ClientSecret,
				SecretInForm: in.ClientAuthenticationMethod == "client_secret_post",
				AllTokens:    in.AllTokens,
				MaxAge:       in.MaxAge,
				InactiveFor:  in.InactiveFor,
				Timeout:      in.Timeout,
			}
			if in.SharedKey != "" {
				bc.Introspection.SharedKey = []byte(in.SharedKey)
			}
			if store != nil && enabled(cfg.Redis.IntrospectionCache, true) {
				bc.Introspection.Shared = store
			}
		}
		if d := cfg.DPoP; d != nil {
			bc.DPoP = &bearer.DPoP{
				Mode:                  dpopMode(d.Mode),
				TrustForwardedHeaders: true, // the gateway presents the origin (see original)
				Algorithms:            d.Algorithms,
				Window:                d.Window,
				MaxProofBytes:         d.MaxProofBytes,
				NonceEvery:            d.NonceEvery,
			}
			if d.NonceSecret != "" {
				bc.DPoP.NonceSecret = []byte(d.NonceSecret)
			}
			if store != nil && enabled(cfg.Redis.DPoPReplay, true) {
				bc.DPoP.Replay = store
			}
		}
		if m := cfg.MTLS; m != nil && m.Source == "header" {
			bc.ClientCertHeader = m.Header
		}
		if len(cfg.Issuers) == 1 {
			v, err := bearer.New(bc)
			if err != nil {
				return nil, cfg.errorAt(fmt.Sprintf("issuers[%d]", i), "%s", fileNames(err))
			}
			return v, nil
		}
		configs = append(configs, bc)
	}
	var metadataURL string
	if len(configs) > 0 {
		metadataURL = configs[0].ResourceMetadata
	}
	m, err := bearer.NewMulti(bearer.MultiConfig{
		Issuers:          configs,
		Realm:            cfg.Realm,
		ResourceMetadata: metadataURL,
		Cache:            bearer.CacheConfig{MaxEntries: cfg.Cache.MaxEntries, MaxBytes: cfg.Cache.MaxBytes, Disable: cfg.Cache.Disable},
	})
	if err != nil {
		path := "issuers"
		var n int
		if _, scan := fmt.Sscanf(err.Error(), "issuer %d:", &n); scan == nil {
			path = fmt.Sprintf("issuers[%d]", n)
		}
		return nil, cfg.errorAt(path, "%s", fileNames(err))
	}
	return m, nil
}

// goNames are the names package bearer's errors give settings, and the
// file's names for them.
var goNames = strings.NewReplacer(
	"bearer: ", "",
	"Config.Issuer", "issuer-uri",
	"Config.JWKSURL", "jwk-set-uri",
	"Config.JWKSFile", "jwks-file",
	"Config.JWKS, JWKSFile and JWKSURL", "jwk-set-uri and jwks-file",
	"Config.Audiences", "audiences",
	"Config.Tenants", "tenants",
	"Config.Claims", "claims",
	"Config.Algorithms", "jws-algorithms",
	"Config.Introspection.URL", "introspection.introspection-uri",
	"Config.Introspection", "introspection",
	"Config.DPoP.", "dpop.",
	"Config.TokenHeader", "tokens.header",
	"Config.", "",
)

func fileNames(err error) string { return goNames.Replace(err.Error()) }

func dpopMode(s string) bearer.DPoPMode {
	switch s {
	case "required":
		return bearer.DPoPRequired
	case "disabled":
		return bearer.DPoPDisabled
	}
	return bearer.DPoPAllowed
}

func enabled(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

// Ready fetches every issuer's keys, if they are not held yet, and reports
// those that cannot be reached.
func (g *Gateway) Ready(ctx context.Context) error {
	if r, ok := g.checker.(interface{ Ready(context.Context) error }); ok {
		return r.Ready(ctx)
	}
	return nil
}

// Close releases what the Gateway holds: its verifiers' background work
// and its Redis connections. A Server closes the Gateways it retires once
// no request uses them any more.
func (g *Gateway) Close() error {
	g.closeOnce.Do(g.close)
	return nil
}

func (g *Gateway) close() {
	g.closed.Store(true)
	// The gateway's own verifiers (a *bearer.Verifier or MultiVerifier)
	// stop their background work; a Checker given in Options may be of
	// another kind, so closing is asked of it, not assumed.
	if c, ok := g.checker.(interface{ Close() error }); ok {
		_ = c.Close()
	}
	if g.rdb != nil {
		_ = g.rdb.Close()
	}
}

// release ends a request in flight on g (see Server.acquire), closing g
// if it was retired meanwhile.
func (g *Gateway) release() {
	if g.refs.Add(-1) == 0 && g.retired.Load() {
		g.closeOnce.Do(g.close)
	}
}

// retire closes g once the requests in flight on it are done.
func (g *Gateway) retire() {
	g.retired.Store(true)
	if g.refs.Load() == 0 {
		g.closeOnce.Do(g.close)
	}
}

// routeFor is the first route matching the request.
func (g *Gateway) routeFor(method, host, path string) *route {
	for _, r := range g.routes {
		if r.matches(method, host, path) {
			return r
		}
	}
	return nil
}

// trusted reports whether addr (host:port or IP) is a trusted proxy.
func (g *Gateway) trusted(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range g.proxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// metadataURL is where the RFC 9728 document of resource is served: the
// well-known path between its origin and its path (validate checked the
// URL).
func metadataURL(resource string) string {
	u, err := url.Parse(resource)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host + (&bearer.ResourceMetadata{Resource: resource}).Path()
}

// parseOrigin reads a DPoP public URL.
func parseOrigin(s string) (origin, error) {
	if err := checkPublicURL(s); err != nil {
		return origin{}, err
	}
	u, _ := url.Parse(s)
	return origin{proto: u.Scheme, host: u.Host, prefix: strings.TrimSuffix(u.EscapedPath(), "/")}, nil
}

// shutdownTimeout is how long requests in flight may take at a stop.
func (c *Config) shutdownTimeout() time.Duration {
	if c.Listen.ShutdownTimeout > 0 {
		return c.Listen.ShutdownTimeout
	}
	return 15 * time.Second
}
