package gateway

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"net/url"
	"strings"
)

// maxXFCCBytes bounds the x-forwarded-client-cert header read: a chain of
// a few certificates, URL-encoded.
const maxXFCCBytes = 64 << 10

// certFromXFCC reads the client certificate from Envoy's
// x-forwarded-client-cert header: comma-separated elements, one per proxy,
// each of semicolon-separated Key=Value pairs, values that hold , ; or =
// in double quotes. The certificate is the Cert pair (URL-encoded PEM);
// Hash (the hex SHA-256 of its DER), when present, must match it. Only a
// header of exactly one element is read: with several, which proxy saw
// the client is a guess, so the edge proxy must replace the header
// (Envoy's forward_client_cert_details: SANITIZE_SET) rather than append
// to it. Anything else gives no certificate, so a certificate-bound token
// is refused.
func certFromXFCC(values []string) *x509.Certificate {
	if len(values) != 1 || len(values[0]) > maxXFCCBytes {
		return nil
	}
	elements := splitQuoted(values[0], ',')
	if len(elements) != 1 {
		return nil
	}
	var certPEM, hash string
	for _, pair := range splitQuoted(elements[0], ';') {
		k, v, ok := cutQuoted(pair)
		if !ok {
			return nil
		}
		switch strings.ToLower(k) {
		case "cert":
			if certPEM != "" {
				return nil
			}
			certPEM = v
		case "hash":
			if hash != "" {
				return nil
			}
			hash = v
		}
	}
	if certPEM == "" {
		return nil
	}
	raw, err := url.QueryUnescape(certPEM)
	if err != nil {
		return nil
	}
	block, rest := pem.Decode([]byte(raw))
	if block == nil || block.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" {
		return nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil
	}
	if hash != "" {
		sum := sha256.Sum256(cert.Raw)
		if subtle.ConstantTimeCompare([]byte(strings.ToLower(hash)), []byte(hex.EncodeToString(sum[:]))) != 1 {
			return nil
		}
	}
	return cert
}

// splitQuoted splits s at sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// cutQuoted reads Key=Value, the value possibly in double quotes with
// backslash escapes.
func cutQuoted(pair string) (key, value string, ok bool) {
	key, value, ok = strings.Cut(strings.TrimSpace(pair), "=")
	if !ok || key == "" {
		return "", "", false
	}
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		var b strings.Builder
		inner := value[1 : len(value)-1]
		for i := 0; i < len(inner); i++ {
			if inner[i] == '\\' && i+1 < len(inner) {
				i++
			}
			b.WriteByte(inner[i])
		}
		value = b.String()
	}
	return key, value, true
}
