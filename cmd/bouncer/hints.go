package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// hint says what to change for bouncer to accept the token, by the reason
// of its refusal (bearer.Reason).
func (x *explanation) hint() string {
	t, o := x.token, x.opts
	switch bearer.Reason(x.err) {
	case "missing_token", "invalid_request":
		return "pass the token alone, as the argument or on standard input"
	case "malformed":
		return x.malformedHint()
	case "type":
		if strings.Contains(x.err.Description, "ID token") || strings.Contains(strings.ToLower(t.typ), "id") {
			return "this is an ID token, which proves a login to a client, not a grant to call an API: send the access_token of the token response, not its id_token"
		}
		if x.err.Description == typeHeaderRefused {
			return fmt.Sprintf("the typ header %q is not an access token's: bouncer accepts at+jwt, JWT or none; send the access token, not another token the issuer signed", t.typ)
		}
		return "this is not an access token (a refresh or logout token?): send the access_token of the token response"
	case "sender_constrained":
		if strings.Contains(x.err.Description, "DPoP") {
			return "the token is DPoP-bound (cnf.jkt), and only a DPoP proof could show the caller holds its key: bouncer takes plain bearer tokens, so have the client request tokens without DPoP"
		}
		return "the token is bound to the client's TLS certificate (mTLS, RFC 8705), which a bearer token's receiver cannot check: have the issuer issue unbound tokens to this client"
	case "algorithm":
		if x.err.Description == algorithmNotAccepted {
			return fmt.Sprintf("the token says it is signed with %s; bouncer takes asymmetric signatures only, never none or HMAC, which a holder of the public key could forge: have the issuer sign access tokens with one of those above, RS256 being the usual", quoteOr(t.alg, "no alg"))
		}
		return "the token's alg and the alg its key is published for disagree: the token was altered, or the issuer publishes the key under a wrong alg"
	case "issuer":
		if t.iss == "" {
			return "the token names no issuer (no iss claim): it is not an access token of any OAuth issuer bouncer can trust"
		}
		return fmt.Sprintf("iss must equal --issuer character for character: mind a trailing slash, http and https, /auth in old Keycloak, sts.windows.net (Entra v1) and login.microsoftonline.com/…/v2.0 (v2); if %q is the issuer to trust, run with --issuer %s", t.iss, t.iss)
	case "unknown_key":
		return x.unknownKeyHint()
	case "signature":
		return "the token was altered or cut while copied, or another key is published under its kid: copy the token whole, and check it comes from --issuer"
	case "expired":
		return fmt.Sprintf("the token expired %s ago, beyond the leeway of %s: get a new token (bouncer token --issuer … prints one)", human(x.at.Sub(t.exp)), human(o.leeway))
	case "not_yet_valid":
		return fmt.Sprintf("the token is dated ahead of this machine's clock by more than the leeway (%s): the clocks of the issuer and this machine differ; sync them (NTP), or raise --leeway, at most 10m", human(o.leeway))
	case "audience":
		return x.audienceHint()
	case "issuer_unavailable":
		return x.unavailableHint()
	case "revoked":
		return x.revokedHint()
	case "insufficient_scope":
		return fmt.Sprintf("the route asks %s: get a token with it (bouncer token --scope …), once the issuer allows it to this client; Entra app-only tokens carry app roles in roles, not scp", x.asked())
	}
	return ""
}

func (x *explanation) malformedHint() string {
	switch {
	case x.err.Description == noExpClaim:
		return "have the issuer put exp in its access tokens: bouncer takes no token that never expires"
	case x.token.segments == 1:
		return "an opaque token, not a JWT: an API takes those only through the issuer's introspection endpoint (Config.Introspection)"
	case x.token.segments == 5:
		return "an encrypted token (JWE): have the issuer sign access tokens without encrypting them"
	}
	return "the token was cut or altered while copied, or its issuer writes JWTs loosely: copy it whole, without quotes"
}

func (x *explanation) unknownKeyHint() string {
	kid := x.token.kid
	for _, e := range x.skipped() {
		if kid != "" && e.KeyID == kid {
			return fmt.Sprintf("the issuer publishes kid %q, but bouncer skips that key: %v", kid, e.Err)
		}
	}
	return fmt.Sprintf("the issuer publishes no usable key with kid %s: either it rotated its keys and retired the one that signed this token (get a new token), or another deployment writing the same iss signed it (another environment, or a development issuer restarted with new keys: get the token from --issuer)", quoteOr(kid, "(none)"))
}

func (x *explanation) audienceHint() string {
	aud := x.token.aud
	if len(aud) == 0 {
		return fmt.Sprintf("the token has no aud claim: have the issuer put %s in aud (Keycloak: an audience mapper on the client; others: ask with --audience or --resource)", quoteList(x.opts.audiences))
	}
	s := fmt.Sprintf("set --audience to one of the token's aud values: %s, if the token is meant for this API; else have the issuer put %s in aud (Keycloak: add an audience mapper to the calling client; Entra: the API's application ID URI or client ID; others: request the token with audience or resource)", quoteList(aud), quoteList(x.opts.audiences))
	if slices.Contains(aud, "account") {
		// Keycloak adds its account console's audience to tokens by
		// default; accepting it would accept tokens for every client.
		s += `. Keycloak's "account" is its own account console, not this API: do not configure it`
	}
	return s
}

func (x *explanation) unavailableHint() string {
	why := x.fetchError()
	if why == "" {
		return "bouncer could not fetch the issuer's keys in time: check the network to the issuer"
	}
	s := "bouncer could not fetch the issuer's keys (" + why + "): "
	switch {
	case strings.Contains(why, "names issuer"):
		if x.disc != nil {
			return s + fmt.Sprintf("run with --issuer %s, the issuer the document names, if that is the one to trust", x.disc.Issuer)
		}
		return s + "set --issuer to exactly the issuer the document names"
	case strings.Contains(why, "certificate"):
		return s + "this machine does not trust the issuer's TLS certificate; name its CA's PEM file in SSL_CERT_FILE"
	case strings.Contains(why, "HTTP 404"):
		return s + "nothing is published there: check --issuer (realm name, path, tenant)"
	case strings.Contains(why, "plain http"):
		return s + "--insecure-http allows it, at the risk of keys replaced in transit"
	case strings.Contains(why, "no usable signing key"):
		return s + "run bouncer metadata --issuer … to see why each key is skipped"
	}
	return s + "check that the issuer runs and that this machine reaches it; an API would answer 503 with Retry-After"
}
