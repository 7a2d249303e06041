package bearer

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/bouncer-go/bouncer/core/internal/dpop"
	"github.com/bouncer-go/bouncer/core/internal/replay"
)

// DPoPMode says which schemes a Verifier with DPoP configured accepts.
type DPoPMode int

const (
	// DPoPAllowed accepts DPoP requests and plain Bearer requests; a token
	// bound to a key (cnf.jkt) is still refused as Bearer.
	DPoPAllowed DPoPMode = iota
	// DPoPRequired accepts DPoP requests only.
	DPoPRequired
	// DPoPDisabled accepts Bearer only; a DPoP request carries no token
	// this API reads, and a bound token is refused as Bearer all the same.
	DPoPDisabled
)

// DPoP configures sender-constrained tokens by DPoP (RFC 9449): a token
// bound to the caller's key (cnf.jkt), presented as "Authorization: DPoP
// <token>" with a "DPoP" header holding a fresh proof, signed with that
// key, for this request's method and URL. A stolen token is then useless
// without the key.
//
// Every check of RFC 9449 §4.3 is made: the proof's typ (dpop+jwt), an
// asymmetric alg of Algorithms, a public jwk header whose key verifies the
// signature, htm equal to the request's method, htu equal to the request's
// URL (PublicURL and the request's path, normalised per RFC 3986; never
// the Host header), iat within Window, ath the hash of the access token,
// with NonceSecret a current server nonce, the RFC 7638 thumbprint of the
// key equal to the token's cnf.jkt, and a jti never seen before (Replay).
//
// They are made cheapest first, so that a request costs only what it
// earns: the proof's size, form and claims (no key, no signature), then
// its key and signature, then the token (from the cache of verified
// tokens, or verified) and its binding to the proof's key, and only then
// is the proof's jti recorded. A caller without a valid token bound to
// its own key can make the verifier check a signature, never make it
// remember anything.
type DPoP struct {
	// Mode: DPoPAllowed (the zero value), DPoPRequired or DPoPDisabled.
	Mode DPoPMode

	// PublicURL is the origin clients reach this API at, as they write it
	// in proofs, e.g. "https://api.example.com" (a path prefix added by a
	// proxy may follow). A proof's htu must be PublicURL followed by the
	// request's path. Required unless TrustForwardedHeaders is set.
	PublicURL string

	// TrustForwardedHeaders builds the URL from X-Forwarded-Proto and
	// X-Forwarded-Host instead, for an API behind a proxy that sets them
	// (and strips them from what clients send). Falls back to PublicURL
	// when they are absent.
	TrustForwardedHeaders bool

	// Algorithms accepted for proofs. Empty means DefaultAlgorithms.
	// Anyone can make the verifier check a proof's signature; the
	// costliest, ES512, costs some 25 times ES256, so an API whose clients
	// all use lighter algorithms may list only those.
	Algorithms []string

	// Window is how far a proof's iat may be from now, either way. Zero
	// means 60 seconds.
	Window time.Duration

	// MaxProofBytes bounds the DPoP header. Zero means 8 KiB.
	MaxProofBytes int

	// Replay remembers the jti of each accepted proof for 2×Window, so that
	// a proof is accepted once. A jti is recorded last, once the token
	// verified and is bound to the proof's key: a proof that comes without
	// such a token records nothing. Nil means an in-process store (see
	// ReplayCapacity); a fleet shares one (adapters/bearerredis), so that a
	// proof replayed against another replica is caught too. When the store
	// cannot answer, DPoP requests get 503: a possible replay is never
	// accepted.
	Replay ReplayStore

	// ReplayCapacity bounds the in-process store (Replay nil): how many
	// jtis it holds at once, each for 2×Window and at most an eighth of
	// that more. Zero means 500,000: some 20 MB when full, enough for
	// 3,700 accepted DPoP requests a second with the default Window. One
	// key may hold a sixteenth of it, so that the holder of one valid
	// token and its key cannot take the store from everyone else. A proof
	// beyond either bound is refused with 503, a Retry-After and
	// ErrReplayStoreUnavailable, until older jtis expire: forgetting a
	// jti early would let its proof be replayed.
	ReplayCapacity int

	// NonceSecret, when set, makes proofs carry a server nonce (RFC 9449
	// §8–9): a request without a current one gets 401 use_dpop_nonce and
	// a DPoP-Nonce header to retry with. Nonces are derived from the
	// secret and the time, so every replica with the same secret accepts
	// them without any shared state. At least 32 bytes.
	NonceSecret []byte

	// NonceEvery is how often nonces change. Zero means one minute.
	NonceEvery time.Duration
}

const (
	defaultDPoPWindow     = time.Minute
	defaultMaxProofBytes  = 8 << 10
	defaultReplayCapacity = 500_000
	// replayShare is the part of the in-process replay store one key may
	// hold: 1/replayShare of it.
	replayShare = 16
)

// dpopHeader names the header of DPoP proofs as net/http canonicalizes
// it, so that reading it makes no canonical copy of the name per request.
const dpopHeader = "Dpop"

// dpopCheck is a Verifier's configured DPoP.
type dpopCheck struct {
	mode      DPoPMode
	publicURL string
	forwarded bool
	algs      map[string]*algorithm
	algNames  string // for challenges: "ES256 PS256 …"
	window    time.Duration
	maxBytes  int
	replay    ReplayStore   // the configured store, or nil
	memory    *replay.Store // the in-process store, when replay is nil
	nonces    *dpop.Nonces
	now       func() time.Time
	keys      sync.Map // a proof's jwk (its JSON) → *proofKey
	keyCount  atomic.Int64
}

// proofKey is a client's parsed DPoP key and its thumbprint. A client
// proves every request with the same key, so it is parsed once: reading a
// JWK and hashing its thumbprint cost a fifth of a proof's check.
type proofKey struct {
	key *publicKey
	jkt string
}

// maxProofKeys bounds the remembered client keys. A key is remembered
// once a proof made with it was accepted, so only keys that a token is
// bound to get in. Once full the cache takes no more: new clients then pay
// for parsing, and nobody is refused.
const maxProofKeys = 4096

// maxProofRSABits bounds the modulus of a proof's RSA key. A proof's key is
// the caller's own, and its signature is checked before the token says
// the caller is anyone: the cost of an RSA check grows with the square of
// the modulus and with the length of the exponent. 4096 bits, the largest
// size clients use and go-jose's default limit (held here even if a
// program raises that), with an exponent of at most 2^31-1, costs at
// worst about half an ES512 check, the costliest algorithm a proof may
// use (BenchmarkDPoPFlood): no RSA key makes a proof dearer than ES512
// proofs already are.
const maxProofRSABits = 4096

func newDPoPCheck(cfg DPoP, now func() time.Time, insecure bool) (*dpopCheck, error) {
	if cfg.Mode < DPoPAllowed || cfg.Mode > DPoPDisabled {
		return nil, fmt.Errorf("bearer: Config.DPoP.Mode %d is not a DPoPMode", cfg.Mode)
	}
	d := &dpopCheck{mode: cfg.Mode, forwarded: cfg.TrustForwardedHeaders, replay: cfg.Replay, now: now}
	if cfg.PublicURL != "" {
		u, err := dpop.NormalizeURL(cfg.PublicURL)
		if err != nil {
			return nil, fmt.Errorf("bearer: Config.DPoP.PublicURL: %w", err)
		}
		if err := secureURL(u, insecure); err != nil {
			return nil, fmt.Errorf("bearer: Config.DPoP.PublicURL: %w", err)
		}
		d.publicURL = strings.TrimSuffix(u, "/")
	} else if !cfg.TrustForwardedHeaders && cfg.Mode != DPoPDisabled {
		return nil, errors.New("bearer: Config.DPoP needs PublicURL (or TrustForwardedHeaders) to check a proof's htu")
	}
	var err error
	if d.algs, err = allowedAlgorithms(cfg.Algorithms); err != nil {
		return nil, err
	}
	names := cfg.Algorithms
	if len(names) == 0 {
		names = DefaultAlgorithms
	}
	d.algNames = strings.Join(names, " ")
	if d.window, err = within("DPoP.Window", cfg.Window, defaultDPoPWindow, time.Second, time.Hour); err != nil {
		return nil, err
	}
	if d.maxBytes, err = count("DPoP.MaxProofBytes", cfg.MaxProofBytes, defaultMaxProofBytes, 64<<10); err != nil {
		return nil, err
	}
	capacity, err := count("DPoP.ReplayCapacity", cfg.ReplayCapacity, defaultReplayCapacity, 1<<26)
	switch {
	case err != nil:
		return nil, err
	case d.replay != nil && cfg.ReplayCapacity != 0:
		return nil, errors.New("bearer: Config.DPoP.ReplayCapacity sizes the in-process replay store, which a Replay store replaces: set one of them")
	case d.replay == nil:
		d.memory = replay.New(capacity, capacity/replayShare, 2*d.window)
	}
	if cfg.NonceSecret != nil {
		if len(cfg.NonceSecret) < 32 {
			return nil, errors.New("bearer: Config.DPoP.NonceSecret must be at least 32 bytes")
		}
		every, err := within("DPoP.NonceEvery", cfg.NonceEvery, time.Minute, time.Second, 24*time.Hour)
		if err != nil {
			return nil, err
		}
		d.nonces = &dpop.Nonces{Secret: append([]byte(nil), cfg.NonceSecret...), Every: every}
	}
	return d, nil
}

// accepts reports whether requests with the DPoP scheme are read at all.
func (d *dpopCheck) accepts() bool { return d != nil && d.mode != DPoPDisabled }

// proofError is an invalid_dpop_proof refusal.
func proofError(format string, args ...any) *Error {
	e := newError(CodeInvalidDPoPProof, ErrDPoPProof, format, args...)
	e.Scheme = "DPoP"
	return e
}

// provenProof is a request's DPoP proof that passed every check but the
// last, that its jti was never seen before (see remember).
type provenProof struct {
	jkt, jti string
	jwk      []byte
	key      *proofKey
	known    bool // key came from d.keys
}

// checkProof checks the request's DPoP proof for token, all but its jti.
// What costs nothing comes first: the proof's size, form, typ, alg, htm,
// iat, jti, ath, htu and nonce; then its key, read from the jwk header,
// and its signature. A refusal's description is fixed: it repeats nothing
// the proof says.
func (d *dpopCheck) checkProof(r Request, token string) (*provenProof, *Error) {
	proofs := r.Header(dpopHeader)
	switch {
	case len(proofs) == 0:
		return nil, proofError("the request has no DPoP header")
	case len(proofs) > 1:
		return nil, proofError("the request has more than one DPoP header")
	case len(proofs[0]) > d.maxBytes:
		return nil, proofError("the DPoP proof is longer than %d bytes", d.maxBytes)
	}
	p, e := parseProof(proofs[0])
	if e != nil {
		return nil, e
	}
	alg, ok := d.algs[p.alg]
	if !ok {
		return nil, proofError("the DPoP proof's algorithm is not accepted")
	}
	now := d.now()
	switch {
	case p.htm != r.Method():
		return nil, proofError("the DPoP proof is for another method")
	case !p.iat.Set:
		return nil, proofError("the DPoP proof has no iat")
	case p.iat.Before(now.Add(-d.window)) || p.iat.After(now.Add(d.window)):
		return nil, proofError("the DPoP proof's iat is not within %v of now", d.window)
	case p.jti == "" || len(p.jti) > 256:
		return nil, proofError("the DPoP proof has no usable jti")
	case p.ath != dpop.AccessTokenHash(token):
		return nil, proofError("the DPoP proof is not for this access token (ath)")
	}
	want, e := d.requestURL(r)
	if e != nil {
		return nil, e
	}
	if htu, err := dpop.NormalizeURL(p.htu); err != nil || htu != want {
		return nil, proofError("the DPoP proof is for another URL (htu)")
	}
	if d.nonces != nil && !d.nonces.Valid(p.nonce, now) {
		e := newError(CodeUseDPoPNonce, ErrDPoPNonce, "the DPoP proof must carry the server's current nonce")
		e.Scheme, e.DPoPNonce = "DPoP", d.nonces.Current(now)
		return nil, e
	}
	key, known, e := d.proofKey(p.jwk)
	if e != nil {
		return nil, e
	}
	if !alg.fits(key.key.key) || (key.key.alg != "" && key.key.alg != alg.name) {
		return nil, proofError("the DPoP proof's algorithm does not fit its key")
	}
	if !alg.verify(key.key, p.signingInput, p.signature) {
		return nil, proofError("the DPoP proof's signature does not verify")
	}
	return &provenProof{jkt: key.jkt, jti: p.jti, jwk: p.jwk, key: key, known: known}, nil
}

// remember records the jti of a proof whose token verified and is bound
// to the proof's key: the last check. Only then, so that a proof that comes
// without such a token, however valid, takes no room in the store, and
// that nothing is recorded for a request the issuer's outage left
// unjudged. The proof's key joins the parsed keys then too.
func (d *dpopCheck) remember(ctx context.Context, p *provenProof) *Error {
	var fresh bool
	var err error
	retry := time.Second
	if d.memory != nil {
		fresh, retry, err = d.memory.Remember(d.now(), p.jkt, p.jti)
	} else {
		fresh, err = d.replay.Remember(ctx, replayKey(p.jkt, p.jti), 2*d.window)
	}
	switch {
	case errors.Is(err, replay.ErrKeyFull):
		return replayUnavailable(err, "this API holds as many recent DPoP proofs of this key as it may; retry later", retry)
	case errors.Is(err, replay.ErrFull):
		return replayUnavailable(err, "this API cannot remember more DPoP proofs now; retry later", retry)
	case err != nil:
		return replayUnavailable(err, "DPoP proofs cannot be checked for replay now", retry)
	case !fresh:
		return proofError("the DPoP proof was used before")
	}
	if !p.known && d.keyCount.Load() < maxProofKeys {
		if _, loaded := d.keys.LoadOrStore(string(p.jwk), p.key); !loaded {
			d.keyCount.Add(1)
		}
	}
	return nil
}

// replayUnavailable is the 503 of a proof the replay store did not record.
func replayUnavailable(err error, description string, retry time.Duration) *Error {
	return &Error{Err: fmt.Errorf("%w: %w", ErrReplayStoreUnavailable, err), Description: description, RetryAfter: retry, Scheme: "DPoP"}
}

// proofKey reads a proof's jwk, from memory when the same key was read
// before (known). Its refusals say nothing of what the jwk holds.
func (d *dpopCheck) proofKey(jwk []byte) (key *proofKey, known bool, e *Error) {
	if k, ok := d.keys.Load(string(jwk)); ok {
		return k.(*proofKey), true, nil
	}
	pub, err := parseJWK(jwk, "")
	if err != nil {
		return nil, false, proofError("the DPoP proof's jwk is not a usable public key")
	}
	if k, ok := pub.key.(*rsa.PublicKey); ok && k.N.BitLen() > maxProofRSABits {
		return nil, false, proofError("the DPoP proof's RSA key is larger than %d bits", maxProofRSABits)
	}
	jkt, err := thumbprint(pub.key)
	if err != nil {
		return nil, false, proofError("the DPoP proof's key has no thumbprint")
	}
	return &proofKey{pub, jkt}, false, nil
}

// requestURL is the URL a proof must name: the configured origin (or the
// trusted proxy's) and the request's path, normalised.
func (d *dpopCheck) requestURL(r Request) (string, *Error) {
	base := d.publicURL
	if d.forwarded {
		proto, host := firstValue(r.Header("X-Forwarded-Proto")), firstValue(r.Header("X-Forwarded-Host"))
		if proto != "" && host != "" {
			base = proto + "://" + host
		}
	}
	if base == "" {
		return "", proofError("this API cannot tell which URL the request was sent to")
	}
	u, err := dpop.NormalizeURL(base + r.Path())
	if err != nil {
		return "", proofError("the request's URL cannot be rebuilt")
	}
	return u, nil
}

func firstValue(v []string) string {
	if len(v) == 0 {
		return ""
	}
	first, _, _ := strings.Cut(v[0], ",")
	return strings.TrimSpace(first)
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of a public key, as
// cnf.jkt carries it.
func thumbprint(key crypto.PublicKey) (string, error) {
	tp, err := (&jose.JSONWebKey{Key: key}).Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// replayKey names a proof in the replay store: a hash, so that the store
// holds nothing a client sent.
func replayKey(jkt, jti string) string {
	sum := sha256.Sum256([]byte(jkt + "\x00" + jti))
	return "bouncer:dpop:" + hex.EncodeToString(sum[:])
}

// nextNonce is the nonce to send with an accepted request, or "".
func (d *dpopCheck) nextNonce() string {
	if d == nil || d.nonces == nil {
		return ""
	}
	return d.nonces.Current(d.now())
}

// AcceptHeaders is implemented by Checkers that add headers to the answers
// of accepted requests: the DPoP-Nonce to use next, when server nonces are
// on. Adapters set them before the handler runs.
type AcceptHeaders interface {
	AcceptHeader() http.Header
}

// AcceptHeaderOf is the header c adds to accepted answers, or nil: what
// every adapter sets before the handler runs.
func AcceptHeaderOf(c Checker) http.Header {
	if a, ok := c.(AcceptHeaders); ok {
		return a.AcceptHeader()
	}
	return nil
}

// AcceptHeader is the header to add to an accepted request's answer, or
// nil.
func (v *Verifier) AcceptHeader() http.Header {
	if n := v.dpop.nextNonce(); n != "" {
		return http.Header{http.CanonicalHeaderKey("DPoP-Nonce"): {n}}
	}
	return nil
}
