// Package bench measures bouncer where users feel it: what a protected
// route costs a server against the same route open, through each
// framework's middleware and each RPC interceptor, and memory under a
// flood of distinct tokens. It is a module of its own so that nothing a
// user imports depends on it.
//
// BenchmarkLoad runs each server in a process of its own, pinned to one
// core with GOMAXPROCS=1, and loads it from the other core with a load
// generator that writes prepared HTTP/1.1 requests (or HTTP/2 frames for
// gRPC) and reads answers only as far as their framing, so that the
// server, not the generator, is the bottleneck. It reports requests per
// second, latency, the server's CPU share, CPU time and allocations per
// request, and refuses to print a ratio for a server it did not saturate.
// It needs a quiet machine of at least two cores: the table gives the load
// average at its start and end.
//
// Run with make bench, or:
//
//	go test -run '^$' -bench Load -benchtime 1x ./bench/
//
// Flags (after the package): -load.rounds, -load.time, -load.conns,
// -load.depth (pipelining), -load.grpcconns, -load.grpcdepth, and
// -load.profile DIR to write CPU and allocation profiles of each server
// under load, for go tool pprof.
package bench
