package main

import (
	"context"
	"fmt"
	"time"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// explanation is a token judged by bouncer, with what the command decoded
// and fetched to explain the verdict.
type explanation struct {
	opts   *checkOptions
	token  tokenView
	claims *bearer.Claims // the verified claims; nil unless the token verified
	err    *bearer.Error  // the refusal; nil when accepted
	rec    *recorder
	at     time.Time // when bouncer judged it

	// The command's own reading of the issuer's documents, made only once
	// bouncer has fetched them, so a token refused before that costs no
	// request to the issuer.
	disc    *discovery
	discErr error
	keys    []jwk
	keysErr error
}

// explain judges token with a Verifier configured as o says, then
// gathers what the explanation shows. Its error is a configuration bouncer
// refuses (bearer.New's), not a refusal of the token.
func explain(ctx context.Context, c *cli, o *checkOptions, token string) (*explanation, error) {
	rec := &recorder{}
	v, err := bearer.New(o.config(rec))
	if err != nil {
		return nil, err
	}
	x := &explanation{opts: o, token: decodeToken(token), rec: rec, at: time.Now()}
	claims, err := v.Verify(ctx, token)
	if err == nil {
		x.claims = claims
		if p := o.policies(); len(p) > 0 {
			err = bearer.All(p...).Authorize(claims)
		}
	}
	if err != nil {
		x.err = bearer.AsError(err)
	}
	if x.fetched() {
		x.readIssuer(ctx, c)
	}
	return x, nil
}

// fetched reports whether bouncer went to the issuer for its keys.
func (x *explanation) fetched() bool {
	return len(x.rec.of(bearer.EventFetchSucceeded))+len(x.rec.of(bearer.EventFetchFailed)) > 0
}

// fetchError is why bouncer's last fetch failed, or "".
func (x *explanation) fetchError() string {
	failed := x.rec.of(bearer.EventFetchFailed)
	if len(failed) == 0 {
		return ""
	}
	return failed[len(failed)-1].Err.Error()
}

func (x *explanation) readIssuer(ctx context.Context, c *cli) {
	x.disc, x.discErr = c.discover(ctx, x.opts.issuer)
	if x.discErr != nil {
		return
	}
	if x.disc.JWKSURI == "" {
		x.keysErr = fmt.Errorf("the metadata names no jwks_uri")
		return
	}
	doc, err := c.get(ctx, x.disc.JWKSURI)
	if err != nil {
		x.keysErr = err
		return
	}
	x.keys, x.keysErr = parseJWKS(doc.body)
}

// key is the published key of kid, if any.
func (x *explanation) key(kid string) (jwk, bool) {
	for _, k := range x.keys {
		if k.Kid == kid {
			return k, true
		}
	}
	return jwk{}, false
}

// usableKids are the kids of the keys bouncer took.
func (x *explanation) usableKids() []string {
	var out []string
	for _, e := range x.rec.of(bearer.EventKeyAdded) {
		out = append(out, e.KeyID)
	}
	return out
}

// skipped are the keys bouncer left out, with why.
func (x *explanation) skipped() []bearer.Event { return x.rec.of(bearer.EventKeySkipped) }
