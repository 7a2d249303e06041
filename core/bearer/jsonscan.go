package bearer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Token headers and claims are read by this small strict reader rather than
// by encoding/json, for two reasons. Safety: a token must have exactly one
// reading, so member names compare exactly (encoding/json matches struct
// fields without regard to case), a repeated member name is refused
// (encoding/json keeps the last, a hand-written scanner might keep the
// first), and so are strings that are not UTF-8 or hold lone surrogates
// (encoding/json silently turns them into U+FFFD). Cost: it validates and
// walks the input in one pass without reflection, which matters on every
// request.

// maxJSONDepth bounds nesting. Real tokens nest three or four levels deep.
const maxJSONDepth = 32

// maxNamesScanned is how many member names of one object are compared
// pairwise before a map takes over, so a payload of thousands of members
// costs linear time.
const maxNamesScanned = 32

var (
	errNotObject = errors.New("not a JSON object")
	errSyntax    = errors.New("not valid JSON")
	errDepth     = errors.New("nested too deeply")
	errText      = errors.New("a string is not valid UTF-8 or holds a lone surrogate")
)

// duplicateError names a member that appears twice in one object.
type duplicateError struct{ name string }

// Error names the member when it is a plain short name, as every claim and
// header name bouncer reads is; anything else is not echoed back, since
// refusal descriptions reach the caller.
func (e *duplicateError) Error() string {
	if len(e.name) > 32 || strings.IndexFunc(e.name, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '-' || r == '#')
	}) >= 0 {
		return "a member name appears more than once"
	}
	return fmt.Sprintf("member %q appears more than once", e.name)
}

// jsonReader walks one JSON text, validating as it goes.
type jsonReader struct {
	b     []byte
	i     int
	depth int
}

// members validates b, which must be one JSON object with nothing but white
// space around it, and calls fn with each member's name (unescaped) and raw
// value, in order. fn may be nil. The name slice is only valid during the
// call.
func members(b []byte, fn func(name, value []byte) error) error {
	r := jsonReader{b: b}
	r.space()
	if r.i >= len(b) || b[r.i] != '{' {
		return errNotObject
	}
	if err := r.object(fn); err != nil {
		return err
	}
	r.space()
	if r.i != len(b) {
		return errSyntax
	}
	return nil
}

// elements validates b, one JSON array, and calls fn with each element.
func elements(b []byte, fn func(value []byte) error) error {
	r := jsonReader{b: b}
	r.space()
	if r.i >= len(b) || b[r.i] != '[' {
		return errClaimType
	}
	if err := r.array(fn); err != nil {
		return err
	}
	r.space()
	if r.i != len(b) {
		return errSyntax
	}
	return nil
}

func (r *jsonReader) space() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// value validates the value at r.i and moves past it.
func (r *jsonReader) value() error {
	if r.i >= len(r.b) {
		return errSyntax
	}
	switch c := r.b[r.i]; {
	case c == '"':
		_, err := r.string()
		return err
	case c == '{':
		return r.object(nil)
	case c == '[':
		return r.array(nil)
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		return r.number()
	}
	return errSyntax
}

func (r *jsonReader) literal(lit string) error {
	if !bytes.HasPrefix(r.b[r.i:], []byte(lit)) {
		return errSyntax
	}
	r.i += len(lit)
	return nil
}

// number checks RFC 8259 §6: -? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?
func (r *jsonReader) number() error {
	b, i := r.b, r.i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i)
	default:
		return errSyntax
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return errSyntax
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return errSyntax
		}
		i = j
	}
	r.i = i
	return nil
}

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// string validates the string at r.i (RFC 8259 §7, and UTF-8 with paired
// surrogates) and moves past it. It reports whether the string holds
// escapes, i.e. whether its bytes differ from its value.
func (r *jsonReader) string() (escaped bool, err error) {
	b := r.b
	i := r.i + 1
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			r.i = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			n, err := escapeLen(b, i)
			if err != nil {
				return false, err
			}
			i += n
		case c < 0x20:
			return false, errSyntax
		case c < utf8.RuneSelf:
			i++
		default:
			ru, size := utf8.DecodeRune(b[i:])
			if ru == utf8.RuneError && size == 1 {
				return false, errText
			}
			i += size
		}
	}
	return false, errSyntax
}

// escapeLen checks the escape sequence at b[i] ('\\') and returns its
// length. A \u escape of a high surrogate must be followed by one of a low
// surrogate, and a low surrogate may not stand alone.
func escapeLen(b []byte, i int) (int, error) {
	if i+1 >= len(b) {
		return 0, errSyntax
	}
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
	default:
		return 0, errSyntax
	}
	u, ok := hex4(b, i+2)
	if !ok {
		return 0, errSyntax
	}
	switch {
	case 0xDC00 <= u && u <= 0xDFFF:
		return 0, errText
	case 0xD800 <= u && u <= 0xDBFF:
		if i+7 >= len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
			return 0, errText
		}
		lo, ok := hex4(b, i+8)
		if !ok {
			return 0, errSyntax
		}
		if lo < 0xDC00 || lo > 0xDFFF {
			return 0, errText
		}
		return 12, nil
	}
	return 6, nil
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// object validates the object at r.i, refusing repeated member names, and
// calls fn (if not nil) for each member.
func (r *jsonReader) object(fn func(name, value []byte) error) error {
	more, err := r.open('}')
	var names nameSet
	for ; more && err == nil; more, err = r.next('}') {
		if r.i >= len(r.b) || r.b[r.i] != '"' {
			return errSyntax
		}
		start := r.i
		escaped, err := r.string()
		if err != nil {
			return err
		}
		name := r.b[start+1 : r.i-1]
		if escaped {
			name = unescape(r.b[start:r.i])
		}
		if !names.add(name) {
			return &duplicateError{string(name)}
		}
		r.space()
		if r.i >= len(r.b) || r.b[r.i] != ':' {
			return errSyntax
		}
		r.i++
		r.space()
		vstart := r.i
		if err := r.value(); err != nil {
			return err
		}
		if fn != nil {
			if err := fn(name, r.b[vstart:r.i]); err != nil {
				return err
			}
		}
	}
	return err
}

// array validates the array at r.i and calls fn (if not nil) for each
// element.
func (r *jsonReader) array(fn func(value []byte) error) error {
	more, err := r.open(']')
	for ; more && err == nil; more, err = r.next(']') {
		start := r.i
		if err := r.value(); err != nil {
			return err
		}
		if fn != nil {
			if err := fn(r.b[start:r.i]); err != nil {
				return err
			}
		}
	}
	return err
}

// open moves past the '{' or '[' at r.i, one level deeper, and reports
// whether a member or element follows, rather than closing.
func (r *jsonReader) open(closing byte) (more bool, err error) {
	if r.depth++; r.depth > maxJSONDepth {
		return false, errDepth
	}
	r.i++
	r.space()
	if r.i < len(r.b) && r.b[r.i] == closing {
		r.i++
		r.depth--
		return false, nil
	}
	return true, nil
}

// next moves past the ',' after a member or element, and reports that
// another follows, or past closing, one level up.
func (r *jsonReader) next(closing byte) (more bool, err error) {
	r.space()
	switch {
	case r.i >= len(r.b):
		return false, errSyntax
	case r.b[r.i] == ',':
		r.i++
		r.space()
		return true, nil
	case r.b[r.i] == closing:
		r.i++
		r.depth--
		return false, nil
	}
	return false, errSyntax
}

// nameSet remembers the member names of one object: compared pairwise while
// there are few (no allocation for a token's usual dozen claims), in a map
// beyond that.
type nameSet struct {
	few  [maxNamesScanned][]byte
	n    int
	many map[string]struct{}
}

func (s *nameSet) add(name []byte) bool {
	if s.many != nil {
		if _, dup := s.many[string(name)]; dup {
			return false
		}
		s.many[string(name)] = struct{}{}
		return true
	}
	for _, seen := range s.few[:s.n] {
		if bytes.Equal(seen, name) {
			return false
		}
	}
	if s.n < len(s.few) {
		s.few[s.n] = name
		s.n++
		return true
	}
	s.many = make(map[string]struct{}, 2*maxNamesScanned)
	for _, seen := range s.few[:s.n] {
		s.many[string(seen)] = struct{}{}
	}
	s.many[string(name)] = struct{}{}
	return true
}

// unescape decodes a validated JSON string token that holds escapes.
func unescape(quoted []byte) []byte {
	var s string
	_ = json.Unmarshal(quoted, &s) // validated: cannot fail
	return []byte(s)
}

// errFound stops member's walk at the member it looks for.
var errFound = errors.New("found")

// member returns the raw value of the member name of obj, one JSON object,
// or nil when obj has none. It stops at that member: what follows it is not
// read, which suits objects validated already (a token's claims, or a
// value within them).
func member(obj []byte, name string) ([]byte, error) {
	var found []byte
	err := members(obj, func(n, v []byte) error {
		if string(n) == name {
			found = v
			return errFound
		}
		return nil
	})
	if err == errFound {
		err = nil
	}
	return found, err
}

func isNull(v []byte) bool { return string(v) == "null" }

// unquote returns the value of a validated JSON string token. A string
// without escapes shares the token's decoded bytes (see stringOf).
func unquote(v []byte) string {
	if bytes.IndexByte(v, '\\') < 0 {
		return stringOf(v[1 : len(v)-1])
	}
	return string(unescape(v))
}

// stringValue reads a JSON string; null reads as "".
func stringValue(v []byte) (string, error) {
	if isNull(v) {
		return "", nil
	}
	if v[0] != '"' {
		return "", errClaimType
	}
	return unquote(v), nil
}

// stringArray reads a JSON array of strings.
func stringArray(v []byte) ([]string, error) {
	out := make([]string, 0, bytes.Count(v, []byte{','})+1)
	err := elements(v, func(e []byte) error {
		if e[0] != '"' {
			return errClaimType
		}
		out = append(out, unquote(e))
		return nil
	})
	return out, err
}
