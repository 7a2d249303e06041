package kubernetes

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzTokenIssuer: the pod's own token is read for its iss and aud, or
// refused, never with a panic; what is read is there in its payload.
func FuzzTokenIssuer(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	for _, p := range []string{`{"iss":"https://kubernetes.default.svc.cluster.local","aud":["https://kubernetes.default.svc.cluster.local","k3s"]}`, `{"iss":"kubernetes/serviceaccount"}`, `{"iss":"a","aud":"b"}`, `{"aud":null,"iss":""}`} {
		f.Add("eyJhbGciOiJSUzI1NiJ9." + enc([]byte(p)) + ".c2ln")
	}
	f.Fuzz(func(t *testing.T, token string) {
		iss, aud, err := tokenIssuer(token)
		if err != nil {
			return
		}
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[1])
		if iss == "" || !strings.Contains(string(payload), "iss") {
			t.Fatalf("read iss %q from %q", iss, payload)
		}
		for _, a := range aud {
			if strings.ContainsAny(a, "\x00") && !strings.Contains(string(payload), `\u0000`) {
				t.Fatalf("read aud %q from %q", a, payload)
			}
		}
	})
}
