package tokencache

import (
	"fmt"
	"strings"
	"sync"
	"testing"
)

func entry(tok string, until int64) *Entry[int] {
	return &Entry[int]{Token: tok, Value: len(tok), Until: until, Size: 100}
}

func TestGetFindsOnlyTheExactToken(t *testing.T) {
	tb := New[int](64, 1<<20)
	tail := strings.Repeat("s", tailBytes)
	tb.Put(entry("a."+tail, 100), 0)
	if _, ok := tb.Get("a." + tail); !ok {
		t.Fatal("miss on the stored token")
	}
	// Same slot hash (same tail), another token: never a hit.
	if _, ok := tb.Get("b." + tail); ok {
		t.Fatal("a token with the same tail was taken for the stored one")
	}
}

func TestPutReplacesEvictsAndBounds(t *testing.T) {
	tb := New[int](4, 1<<20)
	for i := range 4 {
		tb.Put(entry(fmt.Sprint("t", i), int64(10+i)), 0)
	}
	tb.Put(entry("t1", 50), 0) // replace
	if e, _ := tb.Get("t1"); e.Until != 50 || tb.Len() > 4 {
		t.Fatalf("replace: %+v, len %d", e, tb.Len())
	}
	tb.Put(entry("new", 60), 0) // evicts the entry expiring first among its neighbours
	if _, ok := tb.Get("new"); !ok || tb.Len() > 4 {
		t.Fatalf("evict: len %d", tb.Len())
	}
	small := New[int](1024, 250)
	for i := range 10 {
		small.Put(entry(fmt.Sprint("t", i), 100), 0)
	}
	if small.Bytes() > 250 || small.Len() != 2 {
		t.Fatalf("byte budget: %d bytes, %d entries", small.Bytes(), small.Len())
	}
}

func TestPurge(t *testing.T) {
	tb := New[int](64, 1<<20)
	for i := range 10 {
		e := entry(fmt.Sprint("t", i), 100)
		e.Tag = fmt.Sprint(i % 2)
		tb.Put(e, 0)
	}
	tb.Purge(func(e *Entry[int]) bool { return e.Tag == "1" })
	if tb.Len() != 5 || tb.Bytes() != 500 {
		t.Fatalf("after purge: %d entries, %d bytes", tb.Len(), tb.Bytes())
	}
	if _, ok := tb.Get("t1"); ok {
		t.Fatal("a purged entry is still found")
	}
}

func TestConcurrentUse(t *testing.T) {
	tb := New[int](256, 1<<20)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				tok := fmt.Sprint("t", (g*7+i)%500)
				if e, ok := tb.Get(tok); ok && e.Token != tok {
					t.Error("wrong entry")
				}
				tb.Put(entry(tok, int64(i)), int64(i/2))
				if i%500 == 0 {
					tb.Purge(func(e *Entry[int]) bool { return e.Until < 10 })
				}
			}
		})
	}
	wg.Wait()
	if tb.Len() > 256 || tb.Bytes() != int64(tb.Len())*100 {
		t.Fatalf("%d entries, %d bytes", tb.Len(), tb.Bytes())
	}
}

// A token put again after its entry went out of date replaces that entry,
// even when a free slot comes first among its neighbours: a second entry
// for it would hold its slot and bytes until evicted.
func TestPutAgainKeepsOneEntry(t *testing.T) {
	for round := range 32 {
		tb := New[int](ways, 1<<20) // one neighbourhood: every token shares it
		others := []string{"a", "b", "c"}
		for _, tok := range others {
			tb.Put(entry(tok, 100), 0)
		}
		tb.Put(entry("x", 5), 0) // the one slot left, wherever it is
		tb.Purge(func(e *Entry[int]) bool { return e.Token != "x" })
		tb.Put(entry("x", 200), 10)
		if tb.Len() != 1 || tb.Bytes() != 100 {
			t.Fatalf("round %d: %d entries, %d bytes after putting x again; want 1 and 100", round, tb.Len(), tb.Bytes())
		}
		if e, ok := tb.Get("x"); !ok || e.Until != 200 {
			t.Fatalf("round %d: x is %+v", round, e)
		}
	}
}

func TestRemoveTakesOutOnlyThatEntry(t *testing.T) {
	tb := New[int](64, 1<<20)
	first := entry("tok", 100)
	tb.Put(first, 0)
	tb.Remove(first)
	if _, ok := tb.Get("tok"); ok || tb.Len() != 0 || tb.Bytes() != 0 {
		t.Fatalf("after Remove: len %d, bytes %d", tb.Len(), tb.Bytes())
	}
	tb.Put(first, 0)
	second := entry("tok", 200)
	tb.Put(second, 0)
	tb.Remove(first) // replaced already: the newer entry stands
	if e, ok := tb.Get("tok"); !ok || e != second || tb.Len() != 1 || tb.Bytes() != 100 {
		t.Fatalf("Remove of a replaced entry: %+v, len %d, bytes %d", e, tb.Len(), tb.Bytes())
	}
}
