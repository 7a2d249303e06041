package bearer

import (
	"fmt"
	"testing"
)

func TestHeaderCacheAdmitsOnSecondSighting(t *testing.T) {
	var c headerCache
	c.offer("a", header{Alg: "RS256"})
	if _, ok := c.get("a"); ok {
		t.Fatal("admitted on first sighting")
	}
	c.offer("a", header{Alg: "RS256"})
	if h, ok := c.get("a"); !ok || h.Alg != "RS256" {
		t.Fatal("not admitted on second sighting")
	}
	// Distinct headers, each seen once, never enter.
	for i := range 100 {
		c.offer(fmt.Sprint("distinct-", i), header{})
	}
	if n := len(c.entries()); n != 1 {
		t.Fatalf("%d entries after distinct headers; want 1", n)
	}
}

func TestHeaderCacheEvictsLeastRecentlyUsed(t *testing.T) {
	var c headerCache
	add := func(seg string) { c.offer(seg, header{Kid: seg}); c.offer(seg, header{Kid: seg}) }
	add("keep")
	for i := range maxCachedHeaders * 3 {
		add(fmt.Sprint("h", i))
		if _, ok := c.get("keep"); !ok {
			t.Fatalf("the header in use was evicted after %d others", i+1)
		}
	}
	if n := len(c.entries()); n != maxCachedHeaders {
		t.Fatalf("%d entries; want the bound %d", n, maxCachedHeaders)
	}
	if _, ok := c.get("h0"); ok {
		t.Fatal("the least recently used header is still cached")
	}
}

func TestHeaderCacheDropsHeadersOfRemovedKeys(t *testing.T) {
	var c headerCache
	for _, kid := range []string{"old", "new", ""} {
		c.offer("seg-"+kid, header{Kid: kid})
		c.offer("seg-"+kid, header{Kid: kid})
	}
	c.retainKids(func(kid string) bool { return kid == "new" })
	_, old := c.get("seg-old")
	_, cur := c.get("seg-new")
	_, none := c.get("seg-")
	if old || !cur || !none {
		t.Fatalf("after rotation: old %v, new %v, no kid %v", old, cur, none)
	}
}
