package bearer

import "unsafe"

// Verification reads the same bytes as strings and as slices many times per
// request; copying them each time was a large share of its allocations.
// These views share memory instead, under two rules that every caller
// keeps: bytesOf's result is never written to, and stringOf is only applied
// to buffers that bouncer allocated itself (decoded token segments) and
// never changes afterwards — never to a buffer a server may reuse.

// bytesOf returns the bytes of s without copying.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// stringOf returns b as a string without copying.
func stringOf(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
