package bearer

import "reflect"

// Typed returns the verified token's claims decoded into the application's
// own type T, the way Claims.Decode reads them (member names match struct
// tags exactly). The first call for a token decodes; every later call for
// the same verified token, from a policy, a validator or a handler, returns
// the same *T, so a request pays for one decode. The *T is shared: treat it
// as read-only.
//
//	type KeycloakClaims struct {
//		PreferredUsername string `json:"preferred_username"`
//	}
//	kc, err := bearer.Typed[KeycloakClaims](claims)
func Typed[T any](c *Claims) (*T, error) {
	if c.typed == nil { // claims built by hand: nothing to share
		v := new(T)
		return v, c.Decode(v)
	}
	key := reflect.TypeFor[T]()
	if got, ok := c.typed.Load(key); ok {
		e := got.(typedEntry)
		return e.v.(*T), e.err
	}
	v := new(T)
	err := c.Decode(v)
	got, _ := c.typed.LoadOrStore(key, typedEntry{v, err})
	e := got.(typedEntry)
	return e.v.(*T), e.err
}

type typedEntry struct {
	v   any
	err error
}
