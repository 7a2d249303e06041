package ssf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/internal/jwtkind"
	"github.com/bouncer-go/bouncer/core/internal/replay"
	"github.com/bouncer-go/bouncer/core/issuerurl"
)

// Config configures a Receiver.
type Config struct {
	// Transmitter is the transmitter whose Security Event Tokens are
	// accepted, configured as for bearer.New: Issuer, its issuer identifier
	// (Keycloak: the realm's issuer), and Audiences, this receiver's
	// audience as the transmitter writes it in aud (Keycloak: the
	// receiver client's stream audience), both required. Its keys are
	// found through the transmitter's metadata (see
	// issuerurl.TransmitterURLs), or JWKSURL, or JWKS; they are
	// refreshed, rotated and kept through outages as bearer.Config's
	// fields say (HTTPClient, FetchTimeout, RefetchCooldown, KeyMaxAge,
	// MaxStale, MaxKeys, InsecureAllowHTTP, Algorithms, Leeway, Logger,
	// Observer, Now). Fields about access tokens only (Introspection,
	// DPoP, Validators…) are refused.
	Transmitter bearer.Config

	// Revocations receives the revocations the events call for: a
	// *bearer.Revoker for this process, or bearerredis.Revocations to
	// reach every replica. Required.
	Revocations bearer.RevocationSink

	// Issuers are the token issuers whose subjects, clients and tokens the
	// transmitter may revoke, as iss_sub and jwt_id identifiers name
	// them; the first is the issuer of identifiers that name none (opaque
	// subjects, a complex identifier's application). Empty means the
	// transmitter's own issuer alone: an identity provider that signs both
	// the access tokens and the events, as Keycloak does. A SET naming
	// another issuer is refused (access_denied).
	Issuers []string

	// AuthorizationHeader, if set, is the Authorization header the
	// transmitter must send with every push (the Shared Signals
	// Framework's authorization_header, e.g. "Bearer <secret>"), compared
	// in constant time before anything else is read. A push without it is
	// refused (authentication_failed).
	AuthorizationHeader string

	// MaxAge is how old a SET's iat may be: an older SET is refused. Zero
	// means one hour; within one minute and 24 hours.
	MaxAge time.Duration

	// Replay remembers the jti of each SET applied, for MaxAge and the
	// leeway, so that a SET delivered again is recognised (see Receive).
	// Nil means an in-process store of ReplayCapacity; replicas behind one
	// push endpoint share one (bearerredis.Store).
	Replay bearer.ReplayStore

	// ReplayCapacity bounds the in-process store. Zero means 100,000.
	ReplayCapacity int

	// MaxBytes bounds a push's body. Zero means 64 KiB; at most 1 MiB.
	MaxBytes int
}

const (
	defaultMaxAge         = time.Hour
	defaultReplayCapacity = 100_000
	defaultMaxBytes       = 64 << 10
	defaultLeeway         = 60 * time.Second
	mediaType             = "application/secevent+jwt"
)

// Receiver receives Security Event Tokens by RFC 8935 push delivery and
// turns the events that call for it into revocations. It is an
// http.Handler for the receiver's push endpoint (the stream's
// endpoint_url). Safe for concurrent use.
type Receiver struct {
	verifier jwtkind.Verifier
	sink     bearer.RevocationSink
	issuers  []string
	auth     []byte
	maxAge   time.Duration
	leeway   time.Duration
	maxBytes int
	replay   bearer.ReplayStore
	memory   *replay.Store
	now      func() time.Time
	log      *slog.Logger
}

// New builds a Receiver. Like bearer.New it fetches nothing: the
// transmitter's metadata and keys are read with the first SET (or Ready).
func New(cfg Config) (*Receiver, error) {
	if cfg.Revocations == nil {
		return nil, errors.New("ssf: Config.Revocations is required")
	}
	if len(cfg.Transmitter.Audiences) == 0 {
		return nil, errors.New("ssf: Config.Transmitter.Audiences is required: this receiver's audience, as the transmitter writes it in aud")
	}
	v, err := jwtkind.New(cfg.Transmitter, jwtkind.Profile{Name: "Security Event Token", Types: []string{"secevent+jwt"}, MetadataURLs: issuerurl.TransmitterURLs})
	if err != nil {
		return nil, fmt.Errorf("ssf: %w", err)
	}
	r := &Receiver{verifier: v, sink: cfg.Revocations, issuers: cfg.Issuers, replay: cfg.Replay, now: cfg.Transmitter.Now, log: cfg.Transmitter.Logger}
	if len(r.issuers) == 0 {
		r.issuers = []string{cfg.Transmitter.Issuer}
	}
	if cfg.AuthorizationHeader != "" {
		r.auth = []byte(cfg.AuthorizationHeader)
	}
	var errs []error
	r.maxAge, err = setting("MaxAge", cfg.MaxAge, defaultMaxAge, time.Minute, 24*time.Hour)
	errs = append(errs, err)
	if cfg.MaxBytes < 0 || cfg.ReplayCapacity < 0 {
		errs = append(errs, errors.New("ssf: Config.MaxBytes and ReplayCapacity must not be negative"))
	}
	r.maxBytes = min(orDefault(cfg.MaxBytes, defaultMaxBytes), 1<<20)
	if cfg.Replay != nil && cfg.ReplayCapacity != 0 {
		errs = append(errs, errors.New("ssf: Config.ReplayCapacity sizes the in-process replay store, which Replay replaces: set one of them"))
	}
	if err := errors.Join(errs...); err != nil {
		_ = v.Close()
		return nil, err
	}
	switch l := cfg.Transmitter.Leeway; {
	case l == 0:
		r.leeway = defaultLeeway
	case l < 0:
		r.leeway = 0
	default:
		r.leeway = min(l, bearer.MaxLeeway)
	}
	if r.replay == nil {
		capacity := orDefault(cfg.ReplayCapacity, defaultReplayCapacity)
		r.memory = replay.New(capacity, capacity, r.maxAge+2*r.leeway)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	return r, nil
}

func setting(name string, d, def, lo, hi time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return def, nil
	case d < 0:
		return 0, fmt.Errorf("ssf: Config.%s is negative", name)
	}
	return min(max(d, lo), hi), nil
}

func orDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// Ready fetches the transmitter's metadata and keys now, if they are not
// held yet, and reports whether SETs can be verified.
func (r *Receiver) Ready(ctx context.Context) error { return r.verifier.Ready(ctx) }

// Close ends what the Receiver does in the background (see
// bearer.Verifier.Close).
func (r *Receiver) Close() error { return r.verifier.Close() }

// Receive verifies a SET as strictly as an access token (its signature by
// the transmitter's keys, typ secevent+jwt, iss the transmitter, aud this
// receiver, iat within MaxAge, exp and nbf when present), reads its events,
// and applies the revocations they call for: for CAEP session-revoked and
// credential-change and RISC account-disabled and credential-compromise,
// the tokens of their subject (or client) issued up to the event, or the
// one token a jwt_id identifier names. Other events are accepted and
// change nothing, as the Shared Signals Framework asks of receivers.
//
// Revocations are applied before the SET's jti is remembered, and applying
// one again changes nothing: a SET delivered again (a transmitter that
// did not hear the answer retries) is accepted, recognised by its jti and
// reported as a duplicate, with no further effect. A refusal is a
// *DeliveryError, with the answer RFC 8935 gives it.
func (r *Receiver) Receive(ctx context.Context, set string) error {
	v, err := r.verifier.Verify(ctx, set)
	if err != nil {
		return verificationError(err)
	}
	now := r.now()
	switch {
	case v.IssuedAt.IsZero():
		return invalid("the SET has no iat")
	case v.IssuedAt.After(now.Add(r.leeway)):
		return invalid("the SET was issued in the future")
	case v.IssuedAt.Before(now.Add(-r.maxAge - r.leeway)):
		return invalid("the SET was issued more than %v ago", r.maxAge)
	}
	s, err := parseSET(v.Payload, v.IssuedAt)
	if err != nil {
		return invalid("%v", err)
	}
	out, refusal := r.rulesFor(s)
	if refusal != nil {
		return refusal
	}
	if len(out.rules) > 0 {
		if err := r.sink.Revoke(ctx, out.rules...); err != nil {
			return &DeliveryError{Status: http.StatusServiceUnavailable, Description: "the revocations the SET calls for cannot be stored now", RetryAfter: time.Second, Err: err}
		}
	}
	fresh := r.remember(ctx, v.Issuer, s.JTI, now)
	types := make([]string, len(s.Events))
	for i, e := range s.Events {
		types[i] = e.Type
	}
	attrs := []any{"issuer", v.Issuer, "jti", s.JTI, "events", types, "outcome", out.String()}
	switch {
	case !fresh:
		r.log.Info("ssf: security event delivered again; nothing more to do", attrs...)
	case len(out.notes) > 0:
		r.log.Info("ssf: security event accepted", append(attrs, "notes", out.notes)...)
	default:
		r.log.Info("ssf: security event accepted", attrs...)
	}
	return nil
}

// remember records the SET's jti and reports whether it was new. A store
// that cannot answer is logged: the SET was applied already, and applying
// it again would change nothing.
func (r *Receiver) remember(ctx context.Context, issuer, jti string, now time.Time) bool {
	var fresh bool
	var err error
	if r.memory != nil {
		fresh, _, err = r.memory.Remember(now, issuer, jti)
	} else {
		sum := sha256.Sum256([]byte(issuer + "\x00" + jti))
		fresh, err = r.replay.Remember(ctx, "bouncer:ssf:"+hex.EncodeToString(sum[:]), r.maxAge+2*r.leeway)
	}
	if err != nil {
		r.log.Warn("ssf: the jti of an applied security event could not be remembered", "issuer", issuer, "err", err)
		return true
	}
	return fresh
}

// ServeHTTP is the push endpoint: RFC 8935 delivery of one SET per POST,
// with Content-Type application/secevent+jwt. It answers 202 Accepted with
// no body, or 400 with {"err": …, "description": …} (RFC 8935 §2.3, in
// English, which Content-Language says), or 503 with Retry-After when the
// SET cannot be judged or applied now (the transmitter's keys, the
// revocation store), or 405 to another method than POST.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST delivers a Security Event Token here", http.StatusMethodNotAllowed)
		return
	}
	if r.auth != nil {
		got := req.Header.Values("Authorization")
		if len(got) != 1 || subtle.ConstantTimeCompare([]byte(got[0]), r.auth) != 1 {
			writeError(w, &DeliveryError{Status: http.StatusBadRequest, Code: AuthenticationFailed, Description: "the push does not carry the Authorization header this receiver expects"})
			return
		}
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != mediaType || len(req.Header.Values("Content-Type")) != 1 {
		writeError(w, invalid("the Content-Type must be %s", mediaType))
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, int64(r.maxBytes)+1))
	if err != nil {
		writeError(w, invalid("the body cannot be read"))
		return
	}
	if len(body) > r.maxBytes {
		writeError(w, invalid("the SET is longer than %d bytes", r.maxBytes))
		return
	}
	if err := r.Receive(req.Context(), string(bytes.TrimSpace(body))); err != nil {
		var de *DeliveryError
		if !errors.As(err, &de) {
			de = &DeliveryError{Status: http.StatusServiceUnavailable, Description: "the SET cannot be judged now", RetryAfter: time.Second, Err: err}
		}
		r.log.Debug("ssf: security event refused", "status", de.Status, "err", de.Code, "description", de.Description)
		writeError(w, de)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// writeError writes a refusal as RFC 8935 §2.3 asks: a JSON object with
// err and description, in English.
func writeError(w http.ResponseWriter, e *DeliveryError) {
	if e.Code == "" {
		if e.RetryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(e.RetryAfter.Round(time.Second), time.Second)/time.Second)))
		}
		http.Error(w, e.Description, e.Status)
		return
	}
	body, _ := json.Marshal(struct {
		Err         Code   `json:"err"`
		Description string `json:"description"`
	}{e.Code, e.Description})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Language", "en")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}
