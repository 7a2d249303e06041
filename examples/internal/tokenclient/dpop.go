package tokenclient

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// dpopTransport makes the requests of a client that holds a DPoP key
// (RFC 9449): each request carries a fresh proof, signed with the key, for
// its method and URL, and, when it presents a DPoP-bound token, that
// token's hash. A server that asks for a nonce (use_dpop_nonce, with a
// DPoP-Nonce header) gets the request again with it; nonces given by a
// server are used for its later requests.
type dpopTransport struct {
	base http.RoundTripper
	key  *ecdsa.PrivateKey
	jwk  map[string]string

	mu     sync.Mutex
	nonces map[string]string // by host
}

func newDPoPTransport(base http.RoundTripper) (*dpopTransport, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	point, err := key.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	b64 := base64.RawURLEncoding.EncodeToString
	return &dpopTransport{
		base:   base,
		key:    key,
		jwk:    map[string]string{"kty": "EC", "crv": "P-256", "x": b64(point[1:33]), "y": b64(point[33:])},
		nonces: map[string]string{},
	}, nil
}

func (t *dpopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	send := func() (*http.Response, error) {
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		proof, err := t.proof(r)
		if err != nil {
			return nil, err
		}
		r.Header.Set("DPoP", proof)
		return t.base.RoundTrip(r)
	}
	resp, err := send()
	if err != nil {
		return nil, err
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" {
		t.mu.Lock()
		retry := t.nonces[req.URL.Host] != n && (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized)
		t.nonces[req.URL.Host] = n
		t.mu.Unlock()
		if retry {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			return send()
		}
	}
	return resp, nil
}

// proof is a DPoP proof for r.
func (t *dpopTransport) proof(r *http.Request) (string, error) {
	u := *r.URL
	u.RawQuery, u.Fragment = "", ""
	claims := map[string]any{"jti": randomID(), "htm": r.Method, "htu": u.String(), "iat": time.Now().Unix()}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "DPoP "); ok {
		sum := sha256.Sum256([]byte(tok))
		claims["ath"] = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	t.mu.Lock()
	if n := t.nonces[r.URL.Host]; n != "" {
		claims["nonce"] = n
	}
	t.mu.Unlock()
	header, _ := json.Marshal(map[string]any{"typ": "dpop+jwt", "alg": "ES256", "jwk": t.jwk})
	payload, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	digest := sha256.Sum256([]byte(input))
	rr, s, err := ecdsa.Sign(rand.Reader, t.key, digest[:])
	if err != nil {
		return "", err
	}
	sig := append(rr.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
