package bearer

import "reflect"

// Typed returns the verified token's claims decoded into the application's
// own type T, for claims that Claims does not normalise (an application's
// own, Keycloak's preferred_username, Entra's oid…). Member names match
// struct tags exactly, unlike encoding/json, which also matches "Iss" or
// "ISS" to a field tagged "iss": what Typed reads is what was verified. The
// first call for a token decodes; every later call for the same verified
// token, from a policy, a validator or a handler, returns the same *T, so
// a request pays for one decode. The *T is shared: treat it as read-only.
//
//	type KeycloakClaims struct {
//		PreferredUsername string `json:"preferred_username"`
//	}
//	kc, err := bearer.Typed[KeycloakClaims](claims)
func Typed[T any](c *Claims) (*T, error) {
	if c.typed == nil { // claims built by hand: nothing to share
		v := new(T)
		return v, c.decode(v)
	}
	key := reflect.TypeFor[T]()
	if got, ok := c.typed.Load(key); ok {
		e := got.(typedEntry)
		return e.v.(*T), e.err
	}
	v := new(T)
	err := c.decode(v)
	got, _ := c.typed.LoadOrStore(key, typedEntry{v, err})
	e := got.(typedEntry)
	return e.v.(*T), e.err
}

type typedEntry struct {
	v   any
	err error
}
