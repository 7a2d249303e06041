package bearer

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Config configures a Verifier. Only Issuer and Audiences need setting; every
// other zero value means the safe default documented on the field.
type Config struct {
	// Issuer is the issuer identifier, e.g. "https://sso.example.com/realms/api"
	// for Keycloak or "https://login.microsoftonline.com/<tenant>/v2.0" for
	// Entra ID. Tokens must carry it in iss exactly, and discovery must
	// confirm it. It must be https, except on a loopback host (localhost,
	// 127.0.0.0/8, ::1), or with InsecureAllowHTTP. Required.
	Issuer string

	// JWKSURL, when set, is where the issuer's keys are read, and discovery
	// is skipped. The iss check stays. The https rule of Issuer applies.
	JWKSURL string

	// JWKS, when set, holds the issuer's keys as a JSON Web Key Set, and
	// nothing is fetched: for air-gapped deployments and tests. JWKSFile
	// reads the same from a file, once, in New. Every check stays; keys
	// change only with a new Verifier.
	JWKS     []byte
	JWKSFile string

	// JWKSSource, when set, supplies the issuer's keys, and nothing is
	// fetched: for keys that a file or an agent holds and replaces as they
	// rotate (see JWKSSource). It is asked when a fetch would be made.
	JWKSSource JWKSSource

	// KeyUse, when set, is the JWK use of the issuer's signing keys, for
	// key sets that mark them otherwise than sig: SPIFFE trust bundles say
	// jwt-svid. Only keys with exactly that use are then taken. Empty
	// means sig (or no use). "enc" is refused: an encryption key never
	// verifies a token.
	KeyUse string

	// IssuerOptional accepts tokens that carry no iss, as SPIFFE JWT-SVIDs
	// need not: the keys (JWKS, JWKSFile or JWKSSource, never discovered
	// or fetched) are then what vouches, and Issuer names them, any
	// absolute URI (e.g. the trust domain, "spiffe://example.org"). A
	// token that carries iss must still carry Issuer exactly. A
	// MultiVerifier never routes a token without iss.
	IssuerOptional bool

	// RefusedIssuers maps the iss of tokens this API never accepts to the
	// description they are refused with, so that a caller who sent one
	// learns why: the kubernetes package names Kubernetes' legacy
	// service-account tokens here. It changes only what the refusal says
	// (401, ErrIssuer): no token is accepted that would not be without it.
	RefusedIssuers map[string]string

	// Tenants, for an issuer template (see TenantPlaceholder), lists the
	// tenant ids whose tokens are accepted. Empty accepts every tenant.
	Tenants []string

	// DiscoveryTenant is the tenant an issuer template's metadata is read
	// under: "common" (the default) or "organizations".
	DiscoveryTenant string

	// InsecureAllowHTTP lets the issuer, its discovery document and its key
	// set be fetched over plain http from any host. Whoever can alter that
	// traffic can then make this API accept tokens they signed themselves.
	// Loopback hosts need no such switch.
	InsecureAllowHTTP bool

	// AllowRedirectsAcrossOrigins lets discovery and key fetches follow
	// redirects to another scheme, host or port. By default only
	// redirects within the same origin are followed, and a redirect from
	// https to http never is. Introspection requests, which carry a token
	// and this API's credentials, never leave their endpoint's origin.
	AllowRedirectsAcrossOrigins bool

	// Audiences this API answers to; a token must name at least one of them
	// in aud. Required unless InsecureAcceptAnyAudience is set.
	Audiences []string

	// InsecureAcceptAnyAudience turns the audience check off. Any token the
	// issuer ever minted for any API is then accepted here, so a token meant
	// for another service can be replayed against this one. Only for issuers
	// that cannot put an audience in tokens.
	InsecureAcceptAnyAudience bool

	// Algorithms accepted in the token's alg header. Empty means
	// DefaultAlgorithms. Symmetric algorithms and "none" are refused when
	// the Verifier is built.
	Algorithms []string

	// Leeway tolerated for clock skew on exp, nbf and iat. Zero means 60s;
	// a negative value means none; at most MaxLeeway.
	Leeway time.Duration

	// RequireAccessTokenType enforces RFC 9068's typ: the header must say
	// at+jwt or application/at+jwt (of every JWT, those
	// Introspection.AllTokens sends included). By default JWT (or
	// application/jwt) and a missing typ are also accepted, because
	// Keycloak sends JWT and Spring Authorization Server sends none. Any other typ (dpop+jwt, an
	// ID token's…) is always refused, and so are tokens whose claims show
	// they are ID tokens (nonce, at_hash, Keycloak's typ "ID").
	RequireAccessTokenType bool

	// StrictRFC9068 accepts only tokens of RFC 9068's profile: the typ of
	// RequireAccessTokenType, and the claims of its §2.2 all present (iss,
	// exp, aud, sub, client_id, iat, jti). An introspection answer must
	// hold those claims too (iss excepted, which an answer may leave to
	// the issuer that gives it); typ, a JWT header, is asked of the JWTs
	// Introspection.AllTokens sends, and means nothing for opaque tokens.
	StrictRFC9068 bool

	// Claims says which claims feed Claims.Scopes, Roles and ClientID, for
	// issuers that use other names than the defaults (Auth0's
	// permissions, groups, Spring's authorities…). The zero value keeps
	// the defaults.
	Claims ClaimMapping

	// Revocation, if set, takes tokens back before they expire (see
	// Revoker): a token one of its rules covers is refused (401,
	// ErrRevoked), on every path, its cached verdict included. Verifiers
	// may share one Revoker. With it, tokens whose lifetime exceeds
	// RevokerConfig.Retention are refused (ErrLifetime), so that no rule
	// ends while a token it covers could still be accepted.
	Revocation *Revoker

	// Introspection, if set, lets opaque tokens (or every token) be judged
	// by the issuer's RFC 7662 introspection endpoint.
	Introspection *Introspection

	// Cache bounds the cache of tokens already judged (see CacheConfig).
	Cache CacheConfig

	// Validators run after the signature and the standard checks, in
	// order; a refusal is 401 invalid_token (see Validator).
	Validators []Validator

	// MaxTokenLifetime, when set, refuses tokens whose exp is more than
	// this after their iat (and tokens without iat), so that a leaked
	// long-lived token is not accepted; for introspected tokens, the
	// answer's exp and iat, both then required. Zero means no limit.
	MaxTokenLifetime time.Duration

	// MaxTokenBytes bounds the token's length. Zero means 16 KiB; at most
	// 1 MiB.
	MaxTokenBytes int

	// DPoP, when set, accepts DPoP-bound tokens with their proofs (see
	// DPoP). Without it the DPoP scheme is not read, and a token bound to
	// a DPoP key is refused, saying why.
	DPoP *DPoP

	// ClientCertHeader, when set, names the header in which a trusted
	// TLS-terminating proxy forwards the client's certificate (URL-encoded
	// PEM, as nginx's $ssl_client_escaped_cert, or base64 DER), for tokens
	// bound to a certificate (RFC 8705). It must be set by the proxy and
	// stripped from what clients send. Empty means the connection's own
	// certificate.
	ClientCertHeader string

	// TokenHeader, when set, names a request header whose whole value is
	// the token, for callers that cannot send Authorization (e.g.
	// "X-Access-Token"). The Authorization header is still read: a
	// request with both is refused (400).
	TokenHeader string

	// TokenCookie, when set, names a cookie whose value is the token. A
	// request carrying it and another token is refused (400).
	TokenCookie string

	// AllowQueryToken accepts a token in the access_token query parameter
	// (RFC 6750 §2.3). Off by default: URLs end up in logs and histories.
	AllowQueryToken bool

	// AllowFormToken accepts a token in an access_token field of a
	// form-encoded request body (RFC 6750 §2.2). Off by default.
	AllowFormToken bool

	// ResourceMetadata, if set, is the URL of this API's OAuth 2.0
	// Protected Resource Metadata (RFC 9728; see ResourceMetadata), named
	// as resource_metadata in every 401 and 403 challenge so that a client
	// can learn which issuer and scopes this API wants. It is configured,
	// never derived from a request's Host header.
	ResourceMetadata string

	// Realm is named in WWW-Authenticate challenges. Empty means the first
	// audience, or "bouncer".
	Realm string

	// HTTPClient fetches discovery and keys. Nil means a client with a 5s
	// connect timeout and a 15s overall timeout.
	HTTPClient *http.Client

	// FetchTimeout bounds one discovery and key-set fetch. Zero means 10s;
	// within 100ms and 2 minutes.
	FetchTimeout time.Duration

	// RefetchCooldown is the least time between two key-set fetches caused
	// by tokens with an unknown kid, so forged kids cannot turn into a flood
	// against the issuer. Such a refetch sends Cache-Control: no-cache, so
	// that a cache in front of the issuer cannot answer with the set that
	// lacked the kid. Zero means 10s; within 1s and 1 hour.
	RefetchCooldown time.Duration

	// KeyMaxAge is how long a fetched key set is used before it is
	// refreshed, when the issuer's JWKS answer carries no Cache-Control
	// max-age or Expires (those are honoured, within 30s and 24h). The
	// first request after that time, a cache hit included, starts the
	// refresh in the background and is answered with the keys held; a key
	// that left the set is refused, and the tokens it verified are
	// forgotten, as soon as the refresh ends. A Verifier that gets no
	// requests fetches nothing. Zero means 5 minutes; within 30s and 24
	// hours.
	KeyMaxAge time.Duration

	// MaxStale is how long past its refresh time a key set stays in use
	// while the issuer cannot be reached, so an issuer outage does not
	// become an API outage. After it, neither the keys nor the tokens
	// cached with them are used: a request waits for a fetch, and gets 503
	// if the issuer cannot be reached. A Verifier idle for longer than
	// that starts again the same way, as if new. Zero means 12 hours; at
	// most 30 days (a larger value, up to math.MaxInt64, means 30 days).
	MaxStale time.Duration

	// MaxKeys bounds how many keys are kept from the issuer's set. Zero
	// means 64; at most 1024.
	MaxKeys int

	// Logger receives key events (keys added and removed at Info, the
	// rest at Debug) and a summary of refusals (see Verifier.Close). A run
	// of failed fetches is logged as its first failure (and the stale keys
	// it leaves) at Warn, then at most one Warn a minute with the count,
	// then the issuer's return, once, at Info. Nil means slog.Default().
	Logger *slog.Logger

	// Observer, if set, receives the same events, every one of them (a
	// failed fetch is an event even when the log is quiet about it), e.g.
	// to count them.
	Observer Observer

	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

const (
	defaultLeeway        = 60 * time.Second
	defaultMaxTokenBytes = 16 << 10
	defaultFetchTimeout  = 10 * time.Second
	defaultCooldown      = 10 * time.Second
	defaultKeyMaxAge     = 5 * time.Minute
	defaultMaxStale      = 12 * time.Hour
	defaultMaxKeys       = 64
)

// MaxLeeway is the most Config.Leeway can be; a larger one is clamped to
// it. Code that checks times after bouncer (an SDK's own expiry check)
// can allow this much so that the expiry stays bouncer's to judge.
const MaxLeeway = 10 * time.Minute

// Bounds on the settings: every value a Config can hold must give a
// working verifier, so out-of-range values are refused (negative) or
// clamped (too large), never left to overflow time arithmetic.
const (
	maxTokenBytes   = 1 << 20
	minFetchTimeout = 100 * time.Millisecond
	maxFetchTimeout = 2 * time.Minute
	minCooldown     = time.Second
	maxCooldown     = time.Hour
	maxMaxStale     = 30 * 24 * time.Hour
	maxMaxKeys      = 1024
)

// within reads a configured duration: zero means def, a negative value is
// an error, and the rest is clamped to [lo, hi].
func within(name string, d, def, lo, hi time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return def, nil
	case d < 0:
		return 0, fmt.Errorf("bearer: Config.%s is negative (%v)", name, d)
	}
	return min(max(d, lo), hi), nil
}

// count reads a configured bound the same way.
func count(name string, n, def, hi int) (int, error) {
	switch {
	case n == 0:
		return def, nil
	case n < 0:
		return 0, fmt.Errorf("bearer: Config.%s is negative (%d)", name, n)
	}
	return min(n, hi), nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
