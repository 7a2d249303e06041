// Package sealedentry is the value format of the entries that a fleet of
// verifiers shares through a store they do not fully trust (Redis): an
// answer, the time it was obtained, and an HMAC-SHA256 tag over both and
// over the name the entry is stored under, keyed with a secret the fleet
// shares.
//
// Whoever can write the store but lacks the key cannot make up an entry,
// alter one, or move one to another name: Open refuses all three, and the
// reader treats the entry as absent. What such a writer still can do is
// the reader's to bound: delete entries, or put back an authentic entry
// under its own name, which says no more than the issuer said when it was
// obtained.
//
// The format, one version so far:
//
//	b1.<obtained>.<tag>\n<body>
//
// obtained is a positive decimal count of Unix nanoseconds without
// leading zeros; tag is the unpadded base64url of
// HMAC-SHA256(key, "bouncer sealed entry b1" 0x00 uvarint(len(name)) name
// uint64be(obtained) body). Each entry has exactly one spelling.
package sealedentry

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
)

const (
	prefix    = "b1."
	domain    = "bouncer sealed entry b1\x00"
	tagLen    = sha256.Size
	tagChars  = 43 // unpadded base64url of 32 bytes
	maxDigits = 19 // of a positive int64
	// KeyBytes is the length of a derived key, and the least a
	// configured one may have.
	KeyBytes = 32
)

var (
	// ErrFormat: the value is not an entry of this format (another
	// version, a truncated or padded one).
	ErrFormat = errors.New("sealedentry: not a sealed entry")
	// ErrTag: the entry's tag does not verify: it was written with
	// another key, altered, or stored under another name.
	ErrTag = errors.New("sealedentry: the entry does not verify with this fleet's key")
	// ErrTooLarge: the body is larger than the reader accepts.
	ErrTooLarge = errors.New("sealedentry: the entry is larger than allowed")
)

var b64 = base64.RawURLEncoding.Strict()

// DeriveKey derives a fleet's key from a secret every member holds (an
// introspection client secret); label tells keys derived from one secret
// for different uses apart. The key is only as hard to guess as secret.
func DeriveKey(secret []byte, label string) []byte {
	key, err := hkdf.Key(sha256.New, secret, nil, "bouncer sealed entry key\x00"+label, KeyBytes)
	if err != nil {
		panic(err) // only for a length out of HKDF's range, which KeyBytes is not
	}
	return key
}

// Seal returns the value that stores body, obtained at obtained (Unix
// nanoseconds, positive), under name.
func Seal(key []byte, name string, obtained int64, body []byte) []byte {
	out := make([]byte, 0, len(prefix)+maxDigits+1+tagChars+1+len(body))
	out = append(out, prefix...)
	out = strconv.AppendInt(out, obtained, 10)
	out = append(out, '.')
	var sum [tagLen]byte
	out = b64.AppendEncode(out, tag(sum[:0], key, name, obtained, body))
	out = append(out, '\n')
	return append(out, body...)
}

// Open returns the body and the time of an entry Seal made with key for
// name, or an error: ErrTooLarge for a body above maxBody bytes (checked
// before any hashing), ErrFormat for a value Seal would not write, ErrTag
// for one that does not verify. The body aliases value.
func Open(key []byte, name string, value []byte, maxBody int) (obtained int64, body []byte, err error) {
	if len(value) > len(prefix)+maxDigits+1+tagChars+1+maxBody {
		return 0, nil, ErrTooLarge
	}
	rest, ok := bytes.CutPrefix(value, []byte(prefix))
	if !ok {
		return 0, nil, ErrFormat
	}
	digits, rest, ok := bytes.Cut(rest, []byte{'.'})
	if !ok || !canonicalDigits(digits) {
		return 0, nil, ErrFormat
	}
	obtained, err = strconv.ParseInt(string(digits), 10, 64)
	if err != nil || obtained <= 0 {
		return 0, nil, ErrFormat
	}
	encoded, body, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok || len(encoded) != tagChars {
		return 0, nil, ErrFormat
	}
	var got [tagLen]byte
	if n, err := b64.Decode(got[:], encoded); err != nil || n != tagLen {
		return 0, nil, ErrFormat
	}
	if len(body) > maxBody {
		return 0, nil, ErrTooLarge
	}
	var want [tagLen]byte
	if !hmac.Equal(got[:], tag(want[:0], key, name, obtained, body)) {
		return 0, nil, ErrTag
	}
	return obtained, body, nil
}

// canonicalDigits reports whether d is a decimal number as strconv writes
// a positive one: digits only, no leading zero, not too many.
func canonicalDigits(d []byte) bool {
	if len(d) == 0 || len(d) > maxDigits || d[0] == '0' {
		return false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// tag appends the entry's HMAC to dst.
func tag(dst, key []byte, name string, obtained int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(domain))
	m.Write(binary.AppendUvarint(nil, uint64(len(name))))
	m.Write([]byte(name))
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(obtained)))
	m.Write(body)
	return m.Sum(dst)
}
