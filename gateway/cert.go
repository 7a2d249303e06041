package gateway

import (
	"crypto/x509"
	"encoding/pem"
	"net/url"
	"sync/atomic"
	"time"
)

// certSource is where a request's client certificate is read, for
// certificate-bound tokens (RFC 8705), read only when a token is bound to
// one: with mtls source xfcc, the certificate Envoy's gRPC check carries
// (envoyCert, URL-encoded PEM), else the x-forwarded-client-cert header.
// With source header, package bearer reads the configured header itself
// (bearer.Config.ClientCertHeader); without mtls there is none.
func (g *Gateway) certSource(h headerSource, envoyCert string) func() *x509.Certificate {
	if g.mtls != "xfcc" {
		return nil
	}
	return func() *x509.Certificate {
		if envoyCert != "" {
			return parsePEMCert(envoyCert)
		}
		return certFromXFCC(h.values("X-Forwarded-Client-Cert"))
	}
}

// parsePEMCert reads one URL-encoded PEM certificate.
func parsePEMCert(s string) *x509.Certificate {
	raw, err := url.QueryUnescape(s)
	if err != nil {
		return nil
	}
	block, _ := pem.Decode([]byte(raw))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil
	}
	return cert
}

// rateLimit lets a message through once a minute, so that a flood of bad
// requests is not a flood of log lines.
type rateLimit struct{ last atomic.Int64 }

func (r *rateLimit) due() bool {
	now := time.Now().UnixNano()
	last := r.last.Load()
	return now-last >= int64(time.Minute) && r.last.CompareAndSwap(last, now)
}
