package gateway

import "time"

// Config is the gateway's configuration file, as Load reads it from YAML.
// Field names follow the names platform teams know from Spring's resource
// server (issuer-uri, jwk-set-uri, audiences, introspection-uri…). Every
// field is optional unless its comment says otherwise; a zero value means
// the documented default. Values (never keys) may name environment
// variables as ${NAME}, for secrets.
type Config struct {
	// Listen says where the gateway answers.
	Listen Listen `yaml:"listen"`

	// Issuers are the issuers whose tokens are accepted; at least one.
	// With several, a token is routed to its issuer by its iss claim.
	Issuers []Issuer `yaml:"issuers"`

	// Tokens says where tokens are read from, for every issuer.
	Tokens Tokens `yaml:"tokens"`

	// Routes decide, in order, what each request needs: the first route
	// whose hosts, path and methods match decides. A request that no
	// route matches is refused (403): the gateway denies by default.
	Routes []Route `yaml:"routes"`

	// UpstreamHeaders names the headers that carry an accepted token's
	// claims to the upstream service.
	UpstreamHeaders UpstreamHeaders `yaml:"upstream-headers"`

	// TrustedProxies are the addresses (IPs or CIDR ranges) of the proxies
	// allowed to ask the gateway, whose X-Forwarded-* and X-Original-*
	// headers say what the original request was. A request from any other
	// address is refused (403). Empty means the loopback addresses only.
	TrustedProxies []string `yaml:"trusted-proxies"`

	// DPoP, when set, accepts DPoP-bound tokens (RFC 9449) with their
	// proofs.
	DPoP *DPoP `yaml:"dpop"`

	// MTLS, when set, says where the client's TLS certificate is found,
	// for certificate-bound tokens (RFC 8705).
	MTLS *MTLS `yaml:"mtls"`

	// Redis, when set, is shared by the gateway's replicas: for the DPoP
	// replay store and the introspection cache.
	Redis *Redis `yaml:"redis"`

	// Realm is named in WWW-Authenticate challenges. Empty means the first
	// issuer's first audience.
	Realm string `yaml:"realm"`

	// ResourceMetadata, when set, is served as the protected resource's
	// RFC 9728 metadata, and every challenge names it.
	ResourceMetadata *ResourceMetadata `yaml:"resource-metadata"`

	// Cache bounds the cache of tokens already judged, shared by every
	// issuer.
	Cache Cache `yaml:"cache"`

	// Telemetry configures metrics.
	Telemetry Telemetry `yaml:"telemetry"`

	// Log configures the structured log on standard error.
	Log Log `yaml:"log"`

	// Reload configures how a changed file is picked up.
	Reload Reload `yaml:"reload"`

	// file is where the configuration was read from, and pos where each
	// of its values is in it, for errors that name the line.
	file string
	pos  positions
}

// Listen says where the gateway answers.
type Listen struct {
	// HTTP is the address of the HTTP listener: forward-auth at
	// ForwardAuthPath, Envoy's HTTP ext_authz at EnvoyHTTPPrefix, /healthz,
	// /readyz, and /metrics. Empty means "127.0.0.1:9191".
	HTTP string `yaml:"http"`

	// GRPC is the address of Envoy's ext_authz gRPC (v3) listener. Empty
	// means none.
	GRPC string `yaml:"grpc"`

	// ForwardAuthPath is where Traefik, Caddy and nginx send their checks.
	// Empty means "/auth".
	ForwardAuthPath string `yaml:"forward-auth-path"`

	// EnvoyHTTPPrefix is the path_prefix of Envoy's HTTP ext_authz
	// service: Envoy asks at this prefix followed by the original path.
	// Empty means "/envoy".
	EnvoyHTTPPrefix string `yaml:"envoy-http-prefix"`

	// ShutdownTimeout bounds how long requests in flight may take to
	// finish when the gateway stops. Zero means 15 seconds.
	ShutdownTimeout time.Duration `yaml:"shutdown-timeout"`
}

// Issuer is one issuer trusted, as bearer.Config configures it.
type Issuer struct {
	// IssuerURI is the issuer identifier, exactly as tokens carry it in
	// iss, e.g. "https://sso.example.com/realms/services"; an Entra
	// multi-tenant template contains {tenantid}. Required.
	IssuerURI string `yaml:"issuer-uri"`

	// Audiences this API answers to; a token must name one in aud.
	// Required unless InsecureAcceptAnyAudience.
	Audiences []string `yaml:"audiences"`

	// InsecureAcceptAnyAudience turns the audience check off: any token
	// the issuer minted for any API is accepted.
	InsecureAcceptAnyAudience bool `yaml:"insecure-accept-any-audience"`

	// JWKSetURI, when set, is where the keys are read; discovery is
	// skipped. JWKSFile reads them once from a file instead (nothing is
	// fetched). At most one of the two.
	JWKSetURI string `yaml:"jwk-set-uri"`
	JWKSFile  string `yaml:"jwks-file"`

	// JWSAlgorithms accepted in tokens. Empty means bouncer's defaults
	// (RS, PS, ES families and EdDSA).
	JWSAlgorithms []string `yaml:"jws-algorithms"`

	// Tenants, for an issuer template, lists the tenants accepted; empty
	// accepts every tenant. DiscoveryTenant is where the template's
	// metadata is read: "common" (the default) or "organizations".
	Tenants         []string `yaml:"tenants"`
	DiscoveryTenant string   `yaml:"discovery-tenant"`

	// ClockSkew tolerated on exp, nbf and iat. Zero means 60s; at most 10
	// minutes.
	ClockSkew time.Duration `yaml:"clock-skew"`

	// RequireAccessTokenType accepts only typ at+jwt (RFC 9068);
	// StrictRFC9068 also requires the claims of its profile.
	RequireAccessTokenType bool `yaml:"require-access-token-type"`
	StrictRFC9068          bool `yaml:"strict-rfc9068"`

	// Claims says which claims feed scopes, roles and the client id.
	Claims ClaimMapping `yaml:"claims"`

	// Introspection, when set, judges opaque tokens (or every token) at
	// the issuer's RFC 7662 endpoint. At most one issuer may set it.
	Introspection *Introspection `yaml:"introspection"`

	// Validators refuse tokens (401) that lack what this API requires.
	RequiredClaims []string            `yaml:"required-claims"`
	ClaimValues    map[string][]string `yaml:"claim-values"`
	MaxTokenAge    time.Duration       `yaml:"max-token-age"`

	// MaxTokenLifetime refuses tokens whose exp is further than this from
	// their iat. Zero means no limit.
	MaxTokenLifetime time.Duration `yaml:"max-token-lifetime"`

	// MaxTokenBytes bounds a token's length. Zero means 16 KiB.
	MaxTokenBytes int `yaml:"max-token-bytes"`

	// InsecureAllowHTTP allows an issuer over plain http on any host
	// (loopback hosts need no such switch). AllowRedirectsAcrossOrigins
	// lets discovery and key fetches follow redirects to other origins.
	InsecureAllowHTTP           bool `yaml:"insecure-allow-http"`
	AllowRedirectsAcrossOrigins bool `yaml:"allow-redirects-across-origins"`

	// Keys: FetchTimeout bounds one fetch (10s), RefetchCooldown spaces
	// fetches caused by unknown kids (10s), KeyMaxAge is the refresh
	// period without caching headers (5m), MaxStale how long keys serve
	// while the issuer is down (12h), MaxKeys how many are kept (64).
	FetchTimeout    time.Duration `yaml:"fetch-timeout"`
	RefetchCooldown time.Duration `yaml:"refetch-cooldown"`
	KeyMaxAge       time.Duration `yaml:"key-max-age"`
	MaxStale        time.Duration `yaml:"max-stale"`
	MaxKeys         int           `yaml:"max-keys"`
}

// ClaimMapping is bearer.ClaimMapping: which claims feed scopes, roles and
// the client id. Dotted names read nested members
// ("realm_access.roles").
type ClaimMapping struct {
	Scopes              []string `yaml:"scopes"`
	Roles               []string `yaml:"roles"`
	ClientID            []string `yaml:"client-id"`
	StripPrefixes       []string `yaml:"strip-prefixes"`
	ClientIDFromSubject bool     `yaml:"client-id-from-subject"`
}

// Introspection is bearer.Introspection.
type Introspection struct {
	// IntrospectionURI is the endpoint; empty means discovery's.
	IntrospectionURI string `yaml:"introspection-uri"`
	// ClientID and ClientSecret are this API's credentials at the
	// issuer (write the secret as ${ENV_VAR}). Required.
	ClientID     string `yaml:"client-id"`
	ClientSecret string `yaml:"client-secret"`
	// ClientAuthenticationMethod is "client_secret_basic" (the default)
	// or "client_secret_post".
	ClientAuthenticationMethod string `yaml:"client-authentication-method"`
	// AllTokens sends JWTs too (Keycloak's lightweight tokens).
	AllTokens bool `yaml:"all-tokens"`
	// MaxAge reuses an active answer (1m); InactiveFor an inactive one
	// (10s); Timeout bounds a call (5s).
	MaxAge      time.Duration `yaml:"max-age"`
	InactiveFor time.Duration `yaml:"inactive-for"`
	Timeout     time.Duration `yaml:"timeout"`
	// SharedKey authenticates answers shared through Redis (at least 32
	// bytes); empty derives one from the client secret.
	SharedKey string `yaml:"shared-key"`
}

// Tokens says where tokens are read from, besides the Authorization
// header. A request carrying two tokens is refused (400).
type Tokens struct {
	// Header names a header whose whole value is the token.
	Header string `yaml:"header"`
	// Cookie names a cookie whose value is the token.
	Cookie string `yaml:"cookie"`
	// AllowQuery accepts access_token in the query (RFC 6750 §2.3); URLs
	// end up in logs, so it is off by default.
	AllowQuery bool `yaml:"allow-query"`
	// AllowFormBody accepts access_token in a form body (RFC 6750 §2.2),
	// when the proxy forwards the body (Traefik's forwardBody, Envoy's
	// with_request_body); nginx and Caddy do not.
	AllowFormBody bool `yaml:"allow-form-body"`
}

// Route is one rule: which requests it matches and what they need.
type Route struct {
	// Name identifies the route in logs and metrics. Empty means
	// "route N" (1-based).
	Name string `yaml:"name"`

	// Hosts the route matches, without port: exact names or "*.example.com"
	// (any subdomain). Empty matches every host.
	Hosts []string `yaml:"hosts"`

	// PathPrefix matches a path equal to it or below it, segment by
	// segment: "/orders" matches "/orders" and "/orders/7", never
	// "/ordersX". Path matches a whole path, exactly or as a pattern
	// where "{name}" stands for one segment and a final "{name...}" for
	// the rest. At most one of the two; neither matches every path.
	PathPrefix string `yaml:"path-prefix"`
	Path       string `yaml:"path"`

	// Methods the route matches; GET also matches HEAD. Empty matches
	// every method.
	Methods []string `yaml:"methods"`

	// Auth is "required" (the default): a valid token satisfying Policy;
	// "optional": a request without any token passes without claims, a
	// token present must be valid and satisfy Policy; "skip": no check.
	Auth string `yaml:"auth"`

	// Policy is what the token must carry (403 insufficient_scope
	// otherwise). Empty: any valid token.
	Policy Policy `yaml:"policy"`
}

// Policy is a route's requirement on a valid token. Every field set must
// hold (they are combined with all); Any and All nest policies.
type Policy struct {
	// Scopes: all of them; AnyScopes: at least one.
	Scopes    []string `yaml:"scopes"`
	AnyScopes []string `yaml:"any-scopes"`
	// Roles: all of them; AnyRoles: at least one (Entra app roles,
	// Keycloak realm roles, RFC 9068 roles).
	Roles    []string `yaml:"roles"`
	AnyRoles []string `yaml:"any-roles"`
	// ClientRoles: every listed role of each client (Keycloak
	// resource_access); AnyClientRoles: at least one role of each client.
	ClientRoles    map[string][]string `yaml:"client-roles"`
	AnyClientRoles map[string][]string `yaml:"any-client-roles"`
	// Clients: the token's client id must be one of them.
	Clients []string `yaml:"clients"`
	// ScopesOrAppPermissions: any of the scopes, or any of the app
	// permissions (roles) — Entra client-credentials tokens carry only
	// roles.
	ScopesOrAppPermissions *ScopesOrAppPermissions `yaml:"scopes-or-app-permissions"`
	// Any: at least one of the policies; All: every one.
	Any []Policy `yaml:"any"`
	All []Policy `yaml:"all"`
}

// ScopesOrAppPermissions is bearer.RequireScopeOrAppPermission.
type ScopesOrAppPermissions struct {
	Scopes         []string `yaml:"scopes"`
	AppPermissions []string `yaml:"app-permissions"`
}

// UpstreamHeaders names the headers an accepted request carries to the
// upstream. Each is set from the token, or removed when the token has no
// such claim (or the route is optional or skipped and no token came), so
// that a client can never set them itself: proxies must be configured to
// overwrite them (see the README). "-" turns a default header off.
type UpstreamHeaders struct {
	// ClientID: the client id. Empty means "X-Auth-Client-Id".
	ClientID string `yaml:"client-id"`
	// Subject: sub. Empty means "X-Auth-Subject".
	Subject string `yaml:"subject"`
	// Scopes: the scopes, space-separated. Empty means "X-Auth-Scopes".
	Scopes string `yaml:"scopes"`
	// Issuer: the issuer that vouched. Empty means "X-Auth-Issuer".
	Issuer string `yaml:"issuer"`
	// Roles: the roles, comma-separated. Empty means none.
	Roles string `yaml:"roles"`
	// Claims maps more claims (top-level or dotted names) to headers:
	// strings as they are, arrays of strings comma-separated, other
	// values as JSON.
	Claims map[string]string `yaml:"claims"`
}

// DPoP configures bearer.DPoP.
type DPoP struct {
	// Mode is "allowed" (the default: DPoP and Bearer), "required" or
	// "disabled".
	Mode string `yaml:"mode"`
	// PublicURLs maps each host (as the proxy names it) to the origin
	// clients write in their proofs' htu, e.g. "api.example.com":
	// "https://api.example.com"; "*" is the default for other hosts. A
	// path after the origin is a prefix the proxy removes.
	PublicURLs map[string]string `yaml:"public-urls"`
	// ForwardedOrigin takes the origin from the trusted proxy's
	// X-Forwarded-Proto and X-Forwarded-Host for hosts PublicURLs does
	// not name.
	ForwardedOrigin bool `yaml:"forwarded-origin"`
	// Algorithms accepted for proofs; empty means bouncer's defaults.
	Algorithms []string `yaml:"algorithms"`
	// Window is how far a proof's iat may be from now (60s).
	Window time.Duration `yaml:"window"`
	// MaxProofBytes bounds the DPoP header (8 KiB).
	MaxProofBytes int `yaml:"max-proof-bytes"`
	// NonceSecret turns server nonces on (at least 32 bytes, the same on
	// every replica); NonceEvery is how often they change (1m).
	NonceSecret string        `yaml:"nonce-secret"`
	NonceEvery  time.Duration `yaml:"nonce-every"`
}

// MTLS says where the client's certificate comes from.
type MTLS struct {
	// Source is "xfcc": Envoy's x-forwarded-client-cert header (its Cert
	// element; Envoy's gRPC check also carries the certificate itself,
	// which is used first), or "header": Header, in which a
	// TLS-terminating proxy forwards the certificate (URL-encoded PEM,
	// as nginx's $ssl_client_escaped_cert, or base64 DER).
	Source string `yaml:"source"`
	Header string `yaml:"header"`
}

// Redis is shared by the replicas (adapters/bearerredis).
type Redis struct {
	// URL, e.g. "redis://redis:6379/0" (rediss:// for TLS). Required.
	URL string `yaml:"url"`
	// Password, when set, replaces the URL's: write it as ${NAME}, which
	// would need URL-escaping inside the URL.
	Password string `yaml:"password"`
	// Prefix goes before every key. Timeout bounds each call (100ms).
	Prefix  string        `yaml:"prefix"`
	Timeout time.Duration `yaml:"timeout"`
	// DPoPReplay keeps DPoP proof identifiers in Redis (default true when
	// DPoP is on); IntrospectionCache shares introspection answers
	// (default true when an issuer introspects).
	DPoPReplay         *bool `yaml:"dpop-replay"`
	IntrospectionCache *bool `yaml:"introspection-cache"`
}

// ResourceMetadata is the RFC 9728 document served at its well-known
// path on the HTTP listener, and named in challenges.
type ResourceMetadata struct {
	// Resource is this API's resource identifier, an https URL. Required.
	Resource string `yaml:"resource"`
	// AuthorizationServers default to the issuers.
	AuthorizationServers []string `yaml:"authorization-servers"`
	// ScopesSupported default to the scopes the routes ask for.
	ScopesSupported       []string `yaml:"scopes-supported"`
	ResourceName          string   `yaml:"resource-name"`
	ResourceDocumentation string   `yaml:"resource-documentation"`
}

// Cache is bearer.CacheConfig.
type Cache struct {
	MaxEntries int   `yaml:"max-entries"`
	MaxBytes   int64 `yaml:"max-bytes"`
	Disable    bool  `yaml:"disable"`
}

// Telemetry configures metrics.
type Telemetry struct {
	// Metrics serves OpenTelemetry metrics in the Prometheus text format
	// at MetricsPath on the HTTP listener ("/metrics"), for Prometheus,
	// the OpenTelemetry Collector or any agent that scrapes. Default true.
	Metrics     *bool  `yaml:"metrics"`
	MetricsPath string `yaml:"metrics-path"`
}

// Log configures the structured log.
type Log struct {
	// Level is "debug", "info" (the default), "warn" or "error". At debug
	// every decision is logged; at info, refusals are summarised once a
	// minute.
	Level string `yaml:"level"`
	// Format is "json" (the default) or "text".
	Format string `yaml:"format"`
}

// Reload configures how configuration changes are picked up: on SIGHUP
// always, and when the file's content changes, checked every Interval.
type Reload struct {
	// Watch checks the file for changes (default true).
	Watch *bool `yaml:"watch"`
	// Interval between checks. Zero means 2 seconds.
	Interval time.Duration `yaml:"interval"`
}
