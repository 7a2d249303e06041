package bench

import (
	"math/bits"
	"time"
)

// histogram counts latencies in buckets 1/64 of a power of two wide
// (under 1.6% apart), so that a load generator can record every request
// with an increment and report percentiles without keeping samples.
type histogram struct {
	counts [128 + 40*64]uint32
	n      uint64
}

func (h *histogram) add(d time.Duration) {
	h.counts[bucketOf(d)]++
	h.n++
}

// bucketOf is the bucket of d: nanoseconds below 128 have a bucket each;
// above, a bucket holds 64 consecutive values of the top seven bits.
func bucketOf(d time.Duration) int {
	ns := uint64(max(d, 0))
	if ns < 128 {
		return int(ns)
	}
	e := bits.Len64(ns) - 7 // ns>>e is in [64, 128)
	i := 128 + (e-1)*64 + int(ns>>e) - 64
	return min(i, len(histogram{}.counts)-1)
}

// lowerBound is the smallest duration bucket i holds.
func lowerBound(i int) time.Duration {
	if i < 128 {
		return time.Duration(i)
	}
	e := (i-128)/64 + 1
	m := uint64((i-128)%64 + 64)
	return time.Duration(m << e)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile is the lower bound of the bucket holding the q-th quantile,
// 0 when nothing was recorded.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if rank >= h.n {
		rank = h.n - 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += uint64(c)
		if seen > rank {
			return lowerBound(i)
		}
	}
	return 0
}
