package bearer

import (
	"reflect"
	"sync"
	"time"
)

// Typed returns the verified token's claims decoded into the application's
// own type T, for claims that Claims does not normalise (an application's
// own, Keycloak's preferred_username, Entra's oid…). Member names match
// struct tags exactly, unlike encoding/json, which also matches "Iss" or
// "ISS" to a field tagged "iss": what Typed reads is what was verified.
//
// The token is decoded once per type, by the first call for it from a
// validator, a policy or a handler; every call returns a deep copy of that
// value, the caller's own *T, so that nothing a handler changes in it (its
// strings, slices, maps, pointers) reaches another request with the same
// token. A T holding what such a copy cannot reproduce (a struct with
// unexported fields, such as big.Int, though time.Time is fine; a channel,
// a function) is decoded afresh on every call instead, as are claims
// built by hand.
//
//	type KeycloakClaims struct {
//		PreferredUsername string `json:"preferred_username"`
//	}
//	kc, err := bearer.Typed[KeycloakClaims](claims)
func Typed[T any](c *Claims) (*T, error) {
	key := reflect.TypeFor[T]()
	if c.typed == nil || !copyable(key) {
		v := new(T)
		return v, c.decode(v)
	}
	got, ok := c.typed.Load(key)
	if !ok {
		v := new(T)
		err := c.decode(v)
		got, _ = c.typed.LoadOrStore(key, typedEntry{v, err})
	}
	e := got.(typedEntry)
	v := new(T)
	deepCopy(reflect.ValueOf(v).Elem(), reflect.ValueOf(e.v).Elem())
	return v, e.err
}

// typedEntry is what Typed keeps of one type: the value decoded, which is
// never handed out, and the decoding's error.
type typedEntry struct {
	v   any
	err error
}

// copyableTypes remembers copyable's verdict by type.
var copyableTypes sync.Map // reflect.Type → bool

// copyable reports whether deepCopy reproduces every value of t that JSON
// decoding can produce, sharing nothing with the original: every struct
// field reachable from t is exported (time.Time excepted, a value whose
// only pointer, its location, is never changed), and nothing is a
// channel, a function or an unsafe pointer.
func copyable(t reflect.Type) bool {
	if ok, found := copyableTypes.Load(t); found {
		return ok.(bool)
	}
	ok := copyableIn(t, map[reflect.Type]bool{})
	copyableTypes.Store(t, ok)
	return ok
}

var timeType = reflect.TypeFor[time.Time]()

// copyableIn is copyable, with the types being judged further up (a
// recursive type), which are assumed copyable: their other fields decide.
func copyableIn(t reflect.Type, judging map[reflect.Type]bool) bool {
	if judging[t] {
		return true
	}
	judging[t] = true
	switch t.Kind() {
	case reflect.Chan, reflect.Func, reflect.UnsafePointer:
		return false
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return copyableIn(t.Elem(), judging)
	case reflect.Map:
		return copyableIn(t.Key(), judging) && copyableIn(t.Elem(), judging)
	case reflect.Struct:
		if t == timeType {
			return true
		}
		for i := range t.NumField() {
			if f := t.Field(i); !f.IsExported() || !copyableIn(f.Type, judging) {
				return false
			}
		}
	}
	return true // booleans, numbers, strings; an interface holds what JSON decodes
}

// deepCopy sets dst, a settable value of src's type, to a copy of src that
// shares no memory with it, for the types copyable accepts.
func deepCopy(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if !src.IsNil() {
			p := reflect.New(src.Type().Elem())
			deepCopy(p.Elem(), src.Elem())
			dst.Set(p)
		}
	case reflect.Slice:
		if !src.IsNil() {
			s := reflect.MakeSlice(src.Type(), src.Len(), src.Len())
			deepCopyElems(s, src)
			dst.Set(s)
		}
	case reflect.Array:
		deepCopyElems(dst, src)
	case reflect.Map:
		if !src.IsNil() {
			m := reflect.MakeMapWithSize(src.Type(), src.Len())
			for it := src.MapRange(); it.Next(); {
				k := reflect.New(src.Type().Key()).Elem()
				deepCopy(k, it.Key())
				v := reflect.New(src.Type().Elem()).Elem()
				deepCopy(v, it.Value())
				m.SetMapIndex(k, v)
			}
			dst.Set(m)
		}
	case reflect.Interface:
		if !src.IsNil() {
			e := src.Elem()
			v := reflect.New(e.Type()).Elem()
			deepCopy(v, e)
			dst.Set(v)
		}
	case reflect.Struct:
		dst.Set(src)
		if src.Type() == timeType {
			return
		}
		for i := range src.NumField() {
			if src.Type().Field(i).IsExported() {
				deepCopy(dst.Field(i), src.Field(i))
			}
		}
	default:
		dst.Set(src)
	}
}

// deepCopyElems copies the elements of src into dst, of the same length:
// at once when they hold no pointers.
func deepCopyElems(dst, src reflect.Value) {
	switch src.Type().Elem().Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		reflect.Copy(dst, src)
		return
	}
	for i := range src.Len() {
		deepCopy(dst.Index(i), src.Index(i))
	}
}
