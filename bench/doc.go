// Package bench measures bouncer where users feel it: requests per second
// through each framework's middleware, protected against unprotected, and
// memory under a flood of distinct tokens. It is a module of its own so
// that nothing a user imports depends on it.
//
// Run with make bench, or:
//
//	go test -run '^$' -bench . ./bench/
package bench
