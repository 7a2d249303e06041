package revocation

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC).UnixNano()

func sec(n int64) int64 { return n * int64(time.Second) }

func facts(iat int64) *TokenFacts {
	return &TokenFacts{Issuer: "https://iss", ID: "jti-1", Client: "billing", Subject: "user-1", IssuedAt: iat, HasIssuedAt: true}
}

func TestMatchEachKind(t *testing.T) {
	for _, tc := range []struct {
		name  string
		rule  Rule
		token *TokenFacts
		match bool
	}{
		{"jti", Rule{Kind: TokenID, Issuer: "https://iss", Value: "jti-1"}, facts(t0), true},
		{"jti of another issuer", Rule{Kind: TokenID, Issuer: "https://other", Value: "jti-1"}, facts(t0), false},
		{"another jti", Rule{Kind: TokenID, Issuer: "https://iss", Value: "jti-2"}, facts(t0), false},
		{"client, issued before", Rule{Kind: ClientBefore, Issuer: "https://iss", Value: "billing", Before: t0 + 1}, facts(t0), true},
		{"client, issued at Before", Rule{Kind: ClientBefore, Issuer: "https://iss", Value: "billing", Before: t0}, facts(t0), false},
		{"client, issued after", Rule{Kind: ClientBefore, Issuer: "https://iss", Value: "billing", Before: t0}, facts(t0 + sec(1)), false},
		{"client, no iat", Rule{Kind: ClientBefore, Issuer: "https://iss", Value: "billing", Before: t0}, &TokenFacts{Issuer: "https://iss", Client: "billing"}, true},
		{"client of another issuer", Rule{Kind: ClientBefore, Issuer: "https://other", Value: "billing", Before: t0 + 1}, facts(t0), false},
		{"subject, issued before", Rule{Kind: SubjectBefore, Issuer: "https://iss", Value: "user-1", Before: t0 + 1}, facts(t0), true},
		{"subject is not a client", Rule{Kind: SubjectBefore, Issuer: "https://iss", Value: "billing", Before: t0 + 1}, facts(t0), false},
		{"subject, no iat", Rule{Kind: SubjectBefore, Issuer: "https://iss", Value: "user-1", Before: t0}, &TokenFacts{Issuer: "https://iss", Subject: "user-1"}, true},
		{"token hash", Rule{Kind: Token, Value: "h1"}, &TokenFacts{Hash: func() string { return "h1" }}, true},
		{"another token hash", Rule{Kind: Token, Value: "h1"}, &TokenFacts{Hash: func() string { return "h2" }}, false},
		{"empty facts", Rule{Kind: TokenID, Issuer: "", Value: ""}, &TokenFacts{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := New(10)
			tc.rule.Expires = t0 + sec(3600)
			if _, err := s.Add([]Rule{tc.rule}, t0); err != nil {
				t.Fatal(err)
			}
			if _, ok := s.Match(tc.token, t0); ok != tc.match {
				t.Fatalf("Match = %v; want %v", ok, tc.match)
			}
		})
	}
}

// The hash of a token is asked for only when a rule needs it.
func TestHashOnlyWhenNeeded(t *testing.T) {
	s := New(10)
	f := facts(t0)
	f.Hash = func() string { t.Fatal("hashed without a token rule"); return "" }
	s.Add([]Rule{{Kind: ClientBefore, Issuer: "https://iss", Value: "other", Before: t0, Expires: t0 + sec(60)}}, t0)
	if _, ok := s.Match(f, t0); ok {
		t.Fatal("matched")
	}
	if s.HasTokenRules() {
		t.Fatal("HasTokenRules with none")
	}
}

// A rule merged with a stronger one takes its later Before and Expires;
// Gen moves only when the set covers more than before.
func TestMergeAndGen(t *testing.T) {
	s := New(10)
	r := Rule{Kind: ClientBefore, Issuer: "https://iss", Value: "billing", Before: t0, Expires: t0 + sec(100)}
	changed, _ := s.Add([]Rule{r}, t0)
	if len(changed) != 1 || s.Gen() != 1 {
		t.Fatalf("new rule: changed %d, gen %d", len(changed), s.Gen())
	}
	changed, _ = s.Add([]Rule{r}, t0)
	if len(changed) != 0 || s.Gen() != 1 {
		t.Fatalf("the same rule again: changed %d, gen %d", len(changed), s.Gen())
	}
	weaker := r
	weaker.Before, weaker.Expires = t0-sec(10), t0+sec(200)
	changed, _ = s.Add([]Rule{weaker}, t0)
	if len(changed) != 0 || s.Gen() != 1 {
		t.Fatalf("an earlier Before: changed %d, gen %d", len(changed), s.Gen())
	}
	if got := s.Rules(t0); len(got) != 1 || got[0].Before != t0 || got[0].Expires != t0+sec(200) {
		t.Fatalf("merged: %+v", got)
	}
	stronger := r
	stronger.Before, stronger.Reason = t0+sec(5), "later"
	changed, _ = s.Add([]Rule{stronger}, t0)
	if len(changed) != 1 || s.Gen() != 2 || changed[0].Before != t0+sec(5) || changed[0].Expires != t0+sec(200) || changed[0].Reason != "later" {
		t.Fatalf("a later Before: changed %+v, gen %d", changed, s.Gen())
	}
}

// Expired rules match nothing, are left out of Rules, and are swept out
// of the set; an expired rule is not even stored.
func TestExpiry(t *testing.T) {
	s := New(10)
	s.Add([]Rule{
		{Kind: TokenID, Issuer: "https://iss", Value: "jti-1", Expires: t0 + sec(10)},
		{Kind: TokenID, Issuer: "https://iss", Value: "jti-2", Expires: t0 + sec(7200)},
		{Kind: TokenID, Issuer: "https://iss", Value: "old", Expires: t0},
	}, t0)
	if s.Len() != 2 {
		t.Fatalf("Len = %d; an expired rule was stored", s.Len())
	}
	later := t0 + sec(10)
	if _, ok := s.Match(facts(t0), later); ok {
		t.Fatal("an expired rule matched")
	}
	if got := s.Rules(later); len(got) != 1 || got[0].Value != "jti-2" {
		t.Fatalf("Rules = %+v", got)
	}
	// The first Add swept (and set the next sweep a minute on).
	s.Match(facts(t0), later+int64(SweepEvery))
	if s.Len() != 1 {
		t.Fatalf("Len = %d after the sweep", s.Len())
	}
}

// A full set refuses new rules rather than forget one, and still merges
// into those it holds.
func TestCapacity(t *testing.T) {
	s := New(3)
	var rules []Rule
	for i := range 5 {
		rules = append(rules, Rule{Kind: TokenID, Issuer: "https://iss", Value: fmt.Sprint(i), Expires: t0 + sec(60)})
	}
	changed, err := s.Add(rules, t0)
	if !errors.Is(err, ErrFull) || len(changed) != 3 || s.Len() != 3 {
		t.Fatalf("err %v, changed %d, len %d", err, len(changed), s.Len())
	}
	if _, err := s.Add([]Rule{{Kind: TokenID, Issuer: "https://iss", Value: "0", Expires: t0 + sec(120)}}, t0); err != nil {
		t.Fatalf("merging into a held rule: %v", err)
	}
}

func BenchmarkMatch(b *testing.B) {
	s := New(200_000)
	var rules []Rule
	for i := range 100_000 {
		rules = append(rules, Rule{Kind: Kind(i%3 + 1), Issuer: "https://iss", Value: fmt.Sprint(i), Before: t0, Expires: t0 + sec(3600)})
	}
	s.Add(rules, t0)
	f := facts(t0)
	b.ReportAllocs()
	for b.Loop() {
		s.Match(f, t0)
	}
}
