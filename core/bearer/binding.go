package bearer

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"slices"
	"strings"
)

// binding is a token's confirmation claim (cnf, RFC 7800): the key or
// certificate the token is bound to, so that only its holder may use it.
type binding struct {
	jkt, x5t string
	members  []string
}

// presentation is what a request offers to satisfy a binding: the
// thumbprint of the key of a verified DPoP proof (with the DPoP scheme),
// and the TLS client certificate. cert is called only for a token bound
// to a certificate: reading one from a proxy's header means parsing it,
// which would cost far more than a cached token's whole check; nil means
// no certificate.
type presentation struct {
	dpop bool
	jkt  string
	cert func() *x509.Certificate
}

// checkBinding refuses a token whose binding the request does not
// satisfy, and a DPoP request whose token is not bound to the proof's key.
// A bound token presented as a plain bearer token is exactly the downgrade
// RFC 9449 §7.2 forbids.
func checkBinding(c *Claims, pr presentation) *Error {
	b := c.cnf
	// A member bouncer cannot check is refused unless a binding it checks
	// is there too: Keycloak writes "kc-jkt-type" beside jkt, and the jkt
	// binding is enforced whatever else cnf says.
	if b.jkt == "" && b.x5t == "" {
		for _, m := range b.members {
			if m != "jkt" && m != "x5t#S256" {
				return tokenError(ErrSenderConstrained, "the token is bound to a proof-of-possession key (cnf) that bouncer cannot check")
			}
		}
	}
	switch {
	case pr.dpop && b.jkt == "":
		return tokenError(ErrSenderConstrained, "the token is not bound to a DPoP key (no cnf.jkt) but was presented with the DPoP scheme")
	case pr.dpop && subtle.ConstantTimeCompare([]byte(b.jkt), []byte(pr.jkt)) != 1:
		return tokenError(ErrSenderConstrained, "the DPoP proof was made with another key than the one the token is bound to (cnf.jkt)")
	case !pr.dpop && b.jkt != "":
		return tokenError(ErrSenderConstrained, "the token is bound to a DPoP key (cnf.jkt) and cannot be accepted as a bearer token: present it with the DPoP scheme and a proof")
	}
	if b.x5t != "" {
		var cert *x509.Certificate
		if pr.cert != nil {
			cert = pr.cert()
		}
		if cert == nil {
			return tokenError(ErrSenderConstrained, "the token is bound to a TLS client certificate (cnf.x5t#S256) and the request presented none")
		}
		sum := sha256.Sum256(cert.Raw)
		if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(b.x5t)) != 1 {
			return tokenError(ErrSenderConstrained, "the request's TLS client certificate is not the one the token is bound to (cnf.x5t#S256)")
		}
	}
	return nil
}

// clientCert is the request's TLS client certificate: the connection's,
// or the one a trusted TLS-terminating proxy forwarded in
// Config.ClientCertHeader (URL-encoded PEM, as nginx's
// $ssl_client_escaped_cert, or base64 DER).
func (v *Verifier) clientCert(r Request) *x509.Certificate {
	if v.certHeader == "" {
		return r.ClientCertificate()
	}
	values := r.Header(v.certHeader)
	if len(values) != 1 {
		return nil
	}
	raw := values[0]
	if unescaped, err := url.QueryUnescape(raw); err == nil {
		raw = unescaped
	}
	der := []byte(nil)
	if block, _ := pem.Decode([]byte(raw)); block != nil && block.Type == "CERTIFICATE" {
		der = block.Bytes
	} else if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw)); err == nil {
		der = b
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil
	}
	return cert
}

// withScheme is e with its challenge moved to scheme, without changing e,
// which may be shared.
func withScheme(e *Error, scheme string) *Error {
	if e.Scheme == scheme {
		return e
	}
	c := *e
	c.Scheme = scheme
	c.Scope = slices.Clone(e.Scope)
	return &c
}

// judge is the verifier that judges a request's token: a MultiVerifier
// when multi is set, else a Verifier. Its methods call theirs directly,
// not through function values, so that a request's trace, which they
// fill in, stays on the stack: a cache hit allocates nothing.
type judge struct {
	single *Verifier
	multi  *MultiVerifier
}

func (j judge) cached(ctx context.Context, tok string, tr *trace) (*Claims, *Error, bool) {
	if j.multi != nil {
		return j.multi.cached(ctx, tok, tr)
	}
	return j.single.cached(ctx, tok, tr)
}

func (j judge) verify(ctx context.Context, tok string, tr *trace) (*Claims, *Error) {
	if j.multi != nil {
		return j.multi.verify(ctx, tok, tr)
	}
	return j.single.verify(ctx, tok, tr)
}

// judgeRequest is what Verifier and MultiVerifier do with a request: find
// its token as front reads requests, then judge it (see judgeToken). The
// refusal of a DPoP request is a DPoP challenge.
func (front *Verifier) judgeRequest(ctx context.Context, r Request, tr *trace, j judge) (*Claims, *Error) {
	tok, isDPoP, e := front.extract(r)
	if e != nil {
		return nil, e
	}
	c, e := front.judgeToken(ctx, r, tok, isDPoP, tr, j)
	if e != nil && isDPoP {
		e = withScheme(e, "DPoP")
	}
	return c, e
}

// judgeToken checks a request's token: the DPoP proof (or DPoP's
// requirement), the token (from the cache when it is there, its characters
// checked otherwise), then its binding, and last the proof's jti, recorded
// only for a token that verified and is bound to the proof's key. front's
// settings (DPoP, the client certificate header) apply.
func (front *Verifier) judgeToken(ctx context.Context, r Request, tok string, isDPoP bool, tr *trace, j judge) (*Claims, *Error) {
	pr := presentation{dpop: isDPoP, cert: func() *x509.Certificate { return front.clientCert(r) }}
	var proof *provenProof
	switch {
	case isDPoP:
		// A malformed token is refused before any work on the proof.
		if e := checkTokenChars(tok); e != nil {
			return nil, e
		}
		var e *Error
		if proof, e = front.dpop.checkProof(r, tok); e != nil {
			return nil, e
		}
		pr.jkt = proof.jkt
	case front.dpop != nil && front.dpop.mode == DPoPRequired:
		e := tokenError(ErrSenderConstrained, "this API accepts DPoP-bound tokens presented with the DPoP scheme only")
		e.Scheme = "DPoP"
		return nil, e
	}
	c, e, ok := j.cached(ctx, tok, tr)
	if !ok {
		if !isDPoP { // a DPoP token's characters were checked above
			if e := checkTokenChars(tok); e != nil {
				return nil, e
			}
		}
		c, e = j.verify(ctx, tok, tr)
	}
	if e != nil {
		return nil, e
	}
	if e := checkBinding(c, pr); e != nil {
		return c, e
	}
	if proof != nil {
		if e := front.dpop.remember(ctx, proof); e != nil {
			return c, e
		}
	}
	return c, nil
}
