package main

import (
	"encoding/json"
	"log/slog"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// keyVerdicts asks bouncer which published keys it would skip and why,
// so that the rules stay in package bearer alone: a Verifier built with a
// key as its only static key (Config.JWKS) reports through its Observer
// why it skips it. A second Verifier over the whole set adds the rules of
// the set (a kid published twice, too many keys) as notes or per key, and
// says whether the set holds any usable key at all.
func keyVerdicts(keys []jwk, body []byte) (skips, notes []string, setErr error) {
	skips = make([]string, len(keys))
	own := map[string]bool{}
	for i, k := range keys {
		one, _ := json.Marshal(map[string][]json.RawMessage{"keys": {k.raw}})
		events, err := skippedBy(one)
		switch {
		case len(events) > 0:
			skips[i] = events[0].Err.Error()
			own[events[0].KeyID+"\x00"+skips[i]] = true
		case err != nil:
			skips[i] = err.Error()
		}
	}
	events, setErr := skippedBy(body)
	for _, e := range events {
		reason := e.Err.Error()
		if own[e.KeyID+"\x00"+reason] {
			continue
		}
		matched := false
		for i, k := range keys {
			if e.KeyID != "" && k.Kid == e.KeyID && skips[i] == "" {
				skips[i], matched = reason, true
			}
		}
		if !matched {
			notes = append(notes, reason)
		}
	}
	return skips, notes, setErr
}

// skippedBy builds a Verifier over a static key set and returns the keys
// it skipped, and its error if it holds no usable key.
func skippedBy(jwks []byte) ([]bearer.Event, error) {
	rec := &recorder{}
	_, err := bearer.New(bearer.Config{
		Issuer:    "https://issuer.invalid", // nothing is fetched from a static set
		Audiences: []string{"bouncer"},
		JWKS:      jwks,
		Observer:  rec,
		Logger:    slog.New(slog.DiscardHandler),
	})
	return rec.of(bearer.EventKeySkipped), err
}
