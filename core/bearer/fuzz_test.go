package bearer

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// FuzzParseHeader holds the JOSE header reader to encoding/json: accepted
// headers have one reading, and alg, kid and typ are what encoding/json
// reads under their exact names.
func FuzzParseHeader(f *testing.F) {
	for _, h := range []string{
		`{"alg":"RS256","kid":"k","typ":"at+jwt"}`, `{"alg":"none","ALG":"EdDSA"}`, `{"typ":"dpop+jwt","TYP":"at+jwt"}`,
		`{"alg":"RS256","alg":"ES256"}`, `{"alg":"RS256","enc":"A256GCM"}`, `{"alg":"RS256","crit":["exp"]}`,
		`{"alg":"RS256","b64":false}`, `{"alg":1}`, `{"kid":null}`, `{"alg":"R\u0053256"}`, `[]`, `{}`, `x`,
		`{"kid":"JYhAcTPMZ_LX6DBlOWQ7Hn0NeXE","alg":"RS256","typ":"JWT"}`, `{"kid":"17575742-d930-4de3-a710-3fb83252c596","alg":"RS256"}`,
	} {
		f.Add(base64.RawURLEncoding.EncodeToString([]byte(h)))
	}
	f.Fuzz(func(t *testing.T, segment string) {
		var h header
		e := parseHeader(segment, &h)
		// The one spelling of raw: encoding/base64 would also read
		// segments with line breaks in them.
		raw, err := b64.DecodeString(segment)
		if err != nil || base64.RawURLEncoding.EncodeToString(raw) != segment || !oneReading(raw) {
			if e == nil {
				t.Fatalf("accepted header %q", raw)
			}
			return
		}
		var ref map[string]json.RawMessage
		_ = json.Unmarshal(raw, &ref)
		var want header
		refOK := true
		for name, dst := range map[string]*string{"alg": &want.Alg, "kid": &want.Kid, "typ": &want.Typ} {
			if v, ok := ref[name]; ok && (v[0] != '"' || json.Unmarshal(v, dst) != nil) {
				refOK = false
			}
		}
		for _, refused := range []string{"enc", "crit", "b64"} {
			if _, ok := ref[refused]; ok {
				refOK = false
			}
		}
		if (e == nil) != refOK {
			t.Fatalf("parseHeader(%q) = %v; reference accepts: %v", raw, e, refOK)
		}
		if e == nil && h != want {
			t.Fatalf("parseHeader(%q) = %+v; reference reads %+v", raw, h, want)
		}
	})
}

// FuzzParseJWS checks the compact serialisation: what is accepted has
// three segments, each the one canonical base64url spelling of its bytes,
// and is a JWS to isJWS too, so that no token read as a JWT is ever taken
// for an opaque one.
func FuzzParseJWS(f *testing.F) {
	for _, tok := range []string{
		"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJodHRwczovL2kifQ.c2ln", "a.b", "a.b.c.d.e", "ory_at_X.Y", "...", "", "eyJhbGciOiJub25lIn0.e30.",
		"eyJhbGciOiJSUzI1NiJ9=.e30.c2ln", "eyJhbGciOiJSUzI1NiJ9.e30.c2l+", "IHsiYWxnIjoiUlMyNTYifQo.e30.c2ln", "not.a.jwt",
	} {
		f.Add(tok)
	}
	f.Fuzz(func(t *testing.T, token string) {
		var cache headerCache
		jws := isJWS(token, &cache)
		j, sig, e := parseJWS(token, &cache, nil)
		if e != nil {
			if e.Code != CodeInvalidToken || !strings.Contains(e.Error(), "malformed") {
				t.Fatalf("refusal %v is not a malformed-token error", e)
			}
			return
		}
		segs := strings.Split(token, ".")
		if len(segs) != 3 {
			t.Fatalf("accepted %d segments", len(segs))
		}
		if !jws {
			t.Fatalf("parseJWS accepts %q, which isJWS calls opaque", token)
		}
		if j.signingInput != segs[0]+"."+segs[1] {
			t.Fatalf("signing input %q", j.signingInput)
		}
		if base64.RawURLEncoding.EncodeToString(j.payload) != segs[1] || base64.RawURLEncoding.EncodeToString(sig) != segs[2] {
			t.Fatalf("a segment of %q is not canonical base64url", token)
		}
	})
}

// FuzzParseJWKS checks invariants on every key a key set yields: public,
// meant for signatures, of a type and size that can verify, under a kid
// published once, with an alg that fits it.
func FuzzParseJWKS(f *testing.F) {
	for _, seed := range jwksSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		set, _, err := parseJWKS(body, 16)
		if err != nil {
			return
		}
		if set.len() > 16 {
			t.Fatalf("kept %d keys; the bound is 16", set.len())
		}
		var doc map[string]json.RawMessage
		var keys []json.RawMessage
		if json.Unmarshal(body, &doc) != nil || (doc["keys"] != nil && json.Unmarshal(doc["keys"], &keys) != nil) {
			t.Fatalf("accepted a key set encoding/json cannot read: %q", body)
		}
		// Entries are counted by kid as encoding/json reads them, except
		// those with a repeated member, whose kid has no single reading.
		kids := map[string]int{}
		var entries []map[string]any
		for _, raw := range keys {
			var entry map[string]any
			if dup, _ := refStructure(raw); dup || json.Unmarshal(raw, &entry) != nil {
				continue
			}
			entries = append(entries, entry)
			if id, ok := entry["kid"].(string); ok {
				kids[id]++
			}
		}
		for _, k := range slices.Concat(set.noKid, slices.Collect(mapValues(set.byID))) {
			if k.id != "" && kids[k.id] != 1 {
				t.Fatalf("kept kid %q published %d times", k.id, kids[k.id])
			}
			switch key := k.key.(type) {
			case *rsa.PublicKey:
				if key.N.BitLen() < minRSABits || key.N.Bit(0) == 0 || key.E < 3 || key.E%2 == 0 || key.E > 1<<31-1 {
					t.Fatalf("kept an unusable RSA key: %d bits, e=%d", key.N.BitLen(), key.E)
				}
			case *ecdsa.PublicKey:
				if !key.Curve.IsOnCurve(key.X, key.Y) {
					t.Fatal("kept an EC point off its curve")
				}
			case ed25519.PublicKey:
				if len(key) != ed25519.PublicKeySize {
					t.Fatal("kept a short Ed25519 key")
				}
			default:
				t.Fatalf("kept a %T", key)
			}
			if k.alg != "" {
				a, ok := algorithms[k.alg]
				if !ok || !a.fits(k.key) {
					t.Fatalf("kept alg %q for a %T", k.alg, k.key)
				}
			}
		}
		for _, entry := range entries {
			if use, _ := entry["use"].(string); use != "" && use != "sig" && set.byID[str(entry["kid"])] != nil {
				t.Fatalf("kept a key with use %q", use)
			}
			if _, private := entry["d"]; private && set.byID[str(entry["kid"])] != nil {
				t.Fatal("kept a private key")
			}
			if k := set.byID[str(entry["kid"])]; k != nil {
				iss := entry["issuer"]
				named := iss != nil // null names no issuer
				if s, _ := iss.(string); named && (s == "" || k.issuer != s) || !named && k.issuer != "" {
					t.Fatalf("kept issuer %q for an entry whose issuer member is %#v", k.issuer, iss)
				}
			}
		}
	})
}

func str(v any) string { s, _ := v.(string); return s }

func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// FuzzParseMetadata: an accepted discovery document names exactly the
// configured issuer and a jwks_uri, under their exact member names.
func FuzzParseMetadata(f *testing.F) {
	const issuer = "https://sso.example.com/realms/api"
	for _, doc := range []string{
		`{"issuer":"https://sso.example.com/realms/api","jwks_uri":"https://sso.example.com/realms/api/certs"}`,
		`{"ISSUER":"https://sso.example.com/realms/api","jwks_uri":"https://k"}`,
		`{"issuer":"https://sso.example.com/realms/api","jwks_uri":"https://k","issuer":"https://evil"}`,
		`{"issuer":"https://sso.example.com/realms/api/","jwks_uri":"https://k"}`,
		`{"issuer":"https://sso.example.com/realms/api","jwks_uri":""}`, `[]`, `{"jwks_uri":1}`,
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		md, err := parseMetadata(body, issuer)
		if err != nil {
			return
		}
		var ref map[string]json.RawMessage
		if json.Unmarshal(body, &ref) != nil {
			t.Fatalf("accepted a document encoding/json cannot read: %q", body)
		}
		var iss, jwks string
		if json.Unmarshal(ref["issuer"], &iss) != nil || json.Unmarshal(ref["jwks_uri"], &jwks) != nil {
			t.Fatalf("accepted %q without string issuer and jwks_uri", body)
		}
		if iss != issuer || jwks != md.JWKSURL || jwks == "" {
			t.Fatalf("read issuer %q, jwks_uri %q; encoding/json reads %q, %q", md.IssuerURL, md.JWKSURL, iss, jwks)
		}
		if dup, _ := refStructure(body); dup {
			t.Fatalf("accepted a document with a repeated member: %q", body)
		}
	})
}

// rfc6750 is RFC 6750 §2.1's credentials, as a regular expression, the
// reference for token extraction.
var rfc6750 = regexp.MustCompile(`^(?i:bearer) +([A-Za-z0-9\-._~+/]+=*)$`)

// FuzzToken holds the Authorization header reading to RFC 6750's grammar.
func FuzzToken(f *testing.F) {
	for _, h := range []string{"Bearer abc.def.ghi", "bearer x", "BEARER  y==", "Bearer", "Bearer ", "Basic Zm9v", "DPoP x", "Bearer a b", "Bearer a=b", "Bearer ä", "Bearer\tx"} {
		f.Add(h, false)
	}
	v := &Verifier{}
	f.Fuzz(func(t *testing.T, auth string, twice bool) {
		h := http.Header{}
		h.Add("Authorization", auth)
		if twice {
			h.Add("Authorization", auth)
		}
		tok, err := v.Token(headerRequest(h))
		scheme, _, _ := strings.Cut(auth, " ")
		switch {
		case twice:
			if !errorIs(err, ErrInvalidRequest) {
				t.Fatalf("two headers: %q, %v", tok, err)
			}
		case !strings.EqualFold(scheme, "Bearer"):
			if !errorIs(err, ErrMissingToken) {
				t.Fatalf("scheme %q: %q, %v", scheme, tok, err)
			}
		case rfc6750.MatchString(auth):
			if err != nil || tok != rfc6750.FindStringSubmatch(auth)[1] {
				t.Fatalf("%q: %q, %v", auth, tok, err)
			}
		default:
			if !errorIs(err, ErrInvalidRequest) {
				t.Fatalf("%q accepted as %q (%v)", auth, tok, err)
			}
		}
	})
}

type headerRequest http.Header

func (h headerRequest) Header(name string) []string        { return http.Header(h).Values(name) }
func (headerRequest) Query(string) []string                { return nil }
func (headerRequest) Form(string) []string                 { return nil }
func (headerRequest) Method() string                       { return http.MethodGet }
func (headerRequest) Path() string                         { return "/" }
func (headerRequest) ClientCertificate() *x509.Certificate { return nil }

func errorIs(err, target error) bool {
	e, ok := err.(*Error)
	return ok && e.Unwrap() == target
}

// FuzzParseProof holds the DPoP proof reader to its rules: whatever it
// accepts is a compact JWS with canonical segments, typ dpop+jwt, a jwk
// object, no crit, enc or b64, and claims read under their exact names;
// whatever it refuses gets a fixed description.
func FuzzParseProof(f *testing.F) {
	for _, h := range []string{
		`{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}}`,
		`{"typ":"JWT","alg":"ES256","jwk":{}}`, `{"typ":"dpop+jwt","alg":"ES256","jwk":{},"jwk":{}}`, `{"typ":"dpop+jwt","alg":"ES256"}`,
		`{"typ":"dpop+jwt","alg":"ES256","jwk":"x"}`, `{"typ":"dpop+jwt","alg":"ES256","jwk":{},"crit":["x"]}`,
	} {
		f.Add(base64.RawURLEncoding.EncodeToString([]byte(h)) + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"jti":"j","htm":"GET","htu":"https://a/b","iat":1700000000,"ath":"x"}`)) + ".c2ln")
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, e := parseProof(s)
		if e != nil {
			if !errorIs(e, ErrDPoPProof) {
				t.Fatalf("refusal %v is not invalid_dpop_proof", e)
			}
			if !slices.Contains(proofDescriptions, e.Description) {
				t.Fatalf("description %q is not one of the fixed ones", e.Description)
			}
			return
		}
		segs := strings.Split(s, ".")
		if len(segs) != 3 {
			t.Fatalf("accepted %d segments", len(segs))
		}
		header, err := b64.DecodeString(segs[0])
		if err != nil || base64.RawURLEncoding.EncodeToString(header) != segs[0] || !oneReading(header) {
			t.Fatalf("accepted header %q", header)
		}
		var h map[string]json.RawMessage
		_ = json.Unmarshal(header, &h)
		var typ string
		_ = json.Unmarshal(h["typ"], &typ)
		if !strings.EqualFold(typ, "dpop+jwt") || h["jwk"] == nil || h["jwk"][0] != '{' || h["crit"] != nil || h["enc"] != nil || h["b64"] != nil {
			t.Fatalf("accepted header %s", header)
		}
		claims, err := b64.DecodeString(segs[1])
		if err != nil || !oneReading(claims) {
			t.Fatalf("accepted claims %q", claims)
		}
		var c map[string]json.RawMessage
		_ = json.Unmarshal(claims, &c)
		for name, got := range map[string]string{"jti": p.jti, "htm": p.htm, "htu": p.htu, "ath": p.ath, "nonce": p.nonce} {
			var want string
			_ = json.Unmarshal(c[name], &want)
			if got != want {
				t.Fatalf("%s %q; encoding/json reads %q", name, got, want)
			}
		}
	})
}

// FuzzReadPath holds the dotted claim paths of ClaimMapping to
// encoding/json: on a payload with one reading, a path reads the value
// encoding/json finds by walking the same members.
func FuzzReadPath(f *testing.F) {
	f.Add([]byte(`{"realm_access":{"roles":["a","b"]}}`), "realm_access.roles")
	f.Add([]byte(`{"app":{"perms":{"roles":"one"}}}`), "app.perms.roles")
	f.Add([]byte(`{"permissions":["read:x"]}`), "permissions")
	f.Add([]byte(`{"a":"flat"}`), "a.b")
	f.Add([]byte(`{"a":{"b":7}}`), "a.b")
	f.Fuzz(func(t *testing.T, payload []byte, path string) {
		if !oneReading(payload) || path == "" || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") || strings.Contains(path, "..") {
			return
		}
		var got stringList
		err := readPath(payload, path, &got)
		// The reference: walk maps with encoding/json.
		var v any
		_ = json.Unmarshal(payload, &v)
		for _, step := range strings.Split(path, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v = m[step]
		}
		var want []string
		refOK := true
		switch v := v.(type) {
		case nil:
		case string:
			want = []string{v}
		case []any:
			for _, e := range v {
				s, ok := e.(string)
				refOK = refOK && ok
				want = append(want, s)
			}
		default:
			refOK = false
		}
		if (err == nil) != refOK {
			t.Fatalf("readPath(%q, %q) = %v, %v; reference ok %v", payload, path, got, err, refOK)
		}
		if err == nil && !slices.Equal([]string(got), want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("readPath(%q, %q) = %q; reference %q", payload, path, got, want)
		}
	})
}
