package sealedentry

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

var (
	key      = DeriveKey([]byte("s3cr:t+/ %&=?#"), "country-api")
	otherKey = DeriveKey([]byte("another secret"), "country-api")
)

const (
	name     = "bouncer:introspection:0123abcd"
	obtained = int64(1767225600123456789)
	maxBody  = 64 << 10
)

var body = []byte(`{"active":true,"aud":"country-api","exp":1767229200}`)

func TestSealOpen(t *testing.T) {
	v := Seal(key, name, obtained, body)
	if !bytes.HasPrefix(v, []byte("b1.1767225600123456789.")) || !bytes.HasSuffix(v, append([]byte{'\n'}, body...)) {
		t.Fatalf("value %q", v)
	}
	got, b, err := Open(key, name, v, maxBody)
	if err != nil || got != obtained || !bytes.Equal(b, body) {
		t.Fatalf("Open: %d %q %v", got, b, err)
	}
	if _, _, err := Open(key, name, Seal(key, name, 1, nil), maxBody); err != nil {
		t.Fatalf("empty body at time 1: %v", err)
	}
}

// Every change to a value, and every other key or name, is refused.
func TestOpenRefuses(t *testing.T) {
	v := Seal(key, name, obtained, body)
	flip := func(i int) []byte {
		w := bytes.Clone(v)
		w[i] ^= 1
		return w
	}
	head := bytes.IndexByte(v, '\n')
	for _, tc := range []struct {
		what  string
		key   []byte
		name  string
		value []byte
		want  error
	}{
		{"other key", otherKey, name, v, ErrTag},
		{"other name", key, name + "0", v, ErrTag},
		{"name sharing a prefix", key, name[:len(name)-1], v, ErrTag},
		{"body altered", key, name, flip(len(v) - 5), ErrTag},
		{"body extended", key, name, append(bytes.Clone(v), ' '), ErrTag},
		{"body cut", key, name, v[:len(v)-1], ErrTag},
		{"time altered", key, name, []byte(strings.Replace(string(v), "b1.1767225600123456789.", "b1.1767225600123456790.", 1)), ErrTag},
		{"tag altered", key, name, flip(head - 3), ErrTag},
		{"time with a leading zero", key, name, []byte(strings.Replace(string(v), "b1.", "b1.0", 1)), ErrFormat},
		{"time signed", key, name, []byte(strings.Replace(string(v), "b1.", "b1.+", 1)), ErrFormat},
		{"time zero", key, name, Seal(key, name, 0, body), ErrFormat},
		{"time negative", key, name, Seal(key, name, -5, body), ErrFormat},
		{"time overflowing", key, name, []byte(strings.Replace(string(v), "1767225600123456789", "9999999999999999999", 1)), ErrFormat},
		{"other version", key, name, []byte(strings.Replace(string(v), "b1.", "b2.", 1)), ErrFormat},
		{"tag padded", key, name, []byte(strings.Replace(string(v), "\n", "=\n", 1)), ErrFormat},
		{"tag short", key, name, append(bytes.Clone(v[:head-1]), v[head:]...), ErrFormat},
		{"tag not canonical", key, name, flip(head - 1), ErrFormat},
		{"no body line", key, name, v[:head], ErrFormat},
		{"the former format", key, name, append([]byte("1767229200000000000\n"), body...), ErrFormat},
		{"empty", key, name, nil, ErrFormat},
		{"too large", key, name, Seal(key, name, obtained, make([]byte, maxBody+1)), ErrTooLarge},
	} {
		if _, _, err := Open(tc.key, tc.name, tc.value, maxBody); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v; want %v", tc.what, err, tc.want)
		}
	}
}

func TestDeriveKey(t *testing.T) {
	a, b := DeriveKey([]byte("s"), "api"), DeriveKey([]byte("s"), "other-api")
	if len(a) != KeyBytes || bytes.Equal(a, b) || !bytes.Equal(a, DeriveKey([]byte("s"), "api")) {
		t.Fatalf("keys %x %x", a, b)
	}
}

// FuzzOpen holds Open to Seal: whatever it accepts is exactly what Seal
// writes for that name, time and body (one spelling per entry), under the
// size bound; nothing panics.
func FuzzOpen(f *testing.F) {
	v := Seal(key, name, obtained, body)
	for _, seed := range [][]byte{
		v, Seal(key, name, 1, nil), Seal(otherKey, name, obtained, body), v[:len(v)-1], append(bytes.Clone(v), '\n'),
		[]byte("b1.1.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n"), []byte("b1..\n"), []byte("b1.01.x\n"),
		[]byte("1767229200000000000\n{\"active\":true}"), []byte("b1.9223372036854775807." + strings.Repeat("_", 43) + "\n"), nil,
	} {
		f.Add(seed, name)
	}
	f.Add(v, name+"x")
	f.Fuzz(func(t *testing.T, value []byte, n string) {
		const limit = 1 << 10
		got, b, err := Open(key, n, value, limit)
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrTag) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v is none of the package's", err)
			}
			return
		}
		if len(b) > limit || got <= 0 {
			t.Fatalf("accepted a body of %d bytes at %d", len(b), got)
		}
		if again := Seal(key, n, got, b); !bytes.Equal(again, value) {
			t.Fatalf("accepted %q, which Seal writes as %q", value, again)
		}
	})
}
