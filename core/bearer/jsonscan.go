package bearer

import "errors"

// The claims of every request are read by a small scanner instead of
// encoding/json's reflection: it is a large share of a verification's cost
// besides the signature itself. The input is first checked with json.Valid,
// so the scanner walks well-formed JSON only and need not re-validate.

var errNotObject = errors.New("not a JSON object")

// eachMember calls fn with the name and raw value of each member of the
// JSON object b, which must be valid JSON.
func eachMember(b []byte, fn func(name string, value []byte) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errNotObject
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for i < len(b) {
		end := skipValue(b, i)
		name, err := unquote(b[i:end])
		if err != nil {
			return err
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // ':'
		end = skipValue(b, i)
		if err := fn(name, b[i:end]); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] == '}' {
			return nil
		}
		i = skipSpace(b, i+1) // ','
	}
	return nil
}

// eachElement calls fn with each element of the JSON array b.
func eachElement(b []byte, fn func(value []byte) error) error {
	i := skipSpace(b, 1)
	if i < len(b) && b[i] == ']' {
		return nil
	}
	for i < len(b) {
		end := skipValue(b, i)
		if err := fn(b[i:end]); err != nil {
			return err
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] == ']' {
			return nil
		}
		i = skipSpace(b, i+1)
	}
	return nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default:
		for i < len(b) {
			switch b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

func isNull(v []byte) bool { return string(v) == "null" }

// stringValue reads a JSON string; null reads as "".
func stringValue(v []byte) (string, error) {
	if isNull(v) {
		return "", nil
	}
	if len(v) == 0 || v[0] != '"' {
		return "", errClaimType
	}
	return unquote(v)
}

// stringArray reads a JSON array of strings.
func stringArray(v []byte) ([]string, error) {
	var out []string
	err := eachElement(v, func(e []byte) error {
		if len(e) == 0 || e[0] != '"' {
			return errClaimType
		}
		s, err := unquote(e)
		out = append(out, s)
		return err
	})
	return out, err
}
