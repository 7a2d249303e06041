package countryapi

import "testing"

func TestLookup(t *testing.T) {
	for _, c := range []struct {
		code string
		want Country
		ok   bool
	}{
		{"AUS", Country{"AUS", "AUSTRALIA"}, true},
		{"nzl", Country{"NZL", "NEW ZEALAND"}, true},
		{"XYZ", Country{}, false},
		{"AU", Country{}, false},
		{"", Country{}, false},
		{"AUSTRALIA", Country{}, false},
	} {
		got, ok := Lookup(c.code)
		if got != c.want || ok != c.ok {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, %v", c.code, got, ok, c.want, c.ok)
		}
	}
	if n := len(countries); n < 12 {
		t.Errorf("the table has %d countries, want a dozen or more", n)
	}
}
