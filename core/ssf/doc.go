// Package ssf receives the security events of an identity provider (the
// OpenID Shared Signals Framework: CAEP and RISC events, carried as
// Security Event Tokens, RFC 8417, by push delivery, RFC 8935) and turns
// those that call for it into token revocations (see bearer.Revoker).
//
// When an identity provider logs a user out, sees a credential change,
// disables an account or learns that a credential leaked, the tokens it
// issued before stay valid until they expire, and an API that verifies
// them locally keeps accepting them. A transmitter that tells this
// receiver about it makes every API replica refuse them within a second:
// the Receiver verifies each SET as strictly as bouncer verifies an access
// token (the transmitter's keys by discovery, typ secevent+jwt, iss, aud,
// iat within MaxAge, its jti remembered), and hands the revocations to a
// bearer.RevocationSink, a *bearer.Revoker or bearerredis.Revocations.
//
//	revoker, _ := bearer.NewRevoker(bearer.RevokerConfig{})
//	receiver, _ := ssf.New(ssf.Config{
//		Transmitter: bearer.Config{
//			Issuer:    "https://sso.example.com/realms/services",
//			Audiences: []string{"https://orders.example.com/ssf"},
//		},
//		Revocations:         revoker,
//		AuthorizationHeader: "Bearer " + os.Getenv("SSF_PUSH_SECRET"),
//	})
//	http.Handle("POST /ssf/events", receiver)
//
// Which tokens an event names comes from its subject identifier (RFC
// 9493): iss_sub names a subject of an issuer, opaque a subject of the
// first of Config.Issuers, jwt_id one token, a complex identifier its user
// (else its application, as a client), aliases their first identifier of
// those kinds. Tokens issued up to the event are taken back (CAEP
// session-revoked takes back all of the user's tokens, not only those of
// one session, which access tokens do not name); tokens obtained after it
// are accepted. Subject identifiers of other formats (email, phone_number)
// cannot name a token's subject, and their events are accepted without
// effect, and logged. So are events of other types (the framework's
// verification event among them).
//
// Refusals follow RFC 8935: 400 with an error code (invalid_request,
// invalid_key, invalid_issuer, invalid_audience, authentication_failed,
// access_denied) and a description, or 503 with Retry-After when the SET
// cannot be judged now.
package ssf
