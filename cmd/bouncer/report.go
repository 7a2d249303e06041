package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/bouncer-go/bouncer/core/bearer"
)

// checkResult is the machine-readable result of "bouncer check --json".
type checkResult struct {
	Accepted    bool            `json:"accepted"`
	Reason      string          `json:"reason"` // bearer.Reason; "" when accepted
	Status      int             `json:"status"` // what the API would answer
	Description string          `json:"description,omitempty"`
	Steps       []step          `json:"steps"`
	Header      json.RawMessage `json:"header"`
	Claims      json.RawMessage `json:"claims"`
}

func (x *explanation) result() checkResult {
	r := checkResult{Accepted: x.err == nil, Status: http.StatusOK, Steps: x.steps(), Header: x.token.header, Claims: x.token.claims}
	if x.err != nil {
		r.Reason, r.Status, r.Description = bearer.Reason(x.err), x.err.StatusCode(), x.err.Description
	}
	return r
}

func (x *explanation) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // read by people too: keep &, < and > as they are
	return enc.Encode(x.result())
}

// writeText prints the decoded token, every step with a mark (✓ passed,
// ✗ refused here, · not reached), the hint under the failing step, and
// the verdict last, where a reader's eye ends.
func (x *explanation) writeText(w io.Writer) error {
	r := x.result()
	var b strings.Builder
	section(&b, "header", r.Header, x.token.problem)
	section(&b, "claims", r.Claims, x.token.problem)
	b.WriteString("steps\n")
	for _, s := range r.Steps {
		mark := "✓"
		switch {
		case !s.Checked:
			mark = "·"
		case !s.OK:
			mark = "✗"
		}
		fmt.Fprintf(&b, "  %s %-10s %s\n", mark, s.Name, s.Detail)
		if s.Hint != "" {
			b.WriteString(wrap("hint: "+s.Hint, strings.Repeat(" ", 15), 80))
		}
	}
	b.WriteString("\n" + x.verdict() + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func section(b *strings.Builder, name string, raw json.RawMessage, problem string) {
	b.WriteString(name + "\n")
	if raw == nil {
		fmt.Fprintf(b, "  (not shown: %s)\n\n", orDefault(problem, "not decoded"))
		return
	}
	b.WriteString(pretty(raw, "  ") + "\n\n")
}

// verdict is bouncer's decision in one line, with the status an API would
// answer.
func (x *explanation) verdict() string {
	e := x.err
	if e == nil {
		c := x.claims
		return fmt.Sprintf("✓ accepted (200): client %s, scopes %s", quoteOr(c.ClientID, "(none)"), quoteList(c.Scopes))
	}
	what := "refused"
	switch e.StatusCode() {
	case http.StatusForbidden:
		what = "denied"
	case http.StatusServiceUnavailable:
		what = "not judged"
	}
	status := fmt.Sprint(e.StatusCode())
	if e.Code != "" {
		status += " " + string(e.Code)
	}
	return fmt.Sprintf("✗ %s (%s, reason %s): %s", what, status, bearer.Reason(e), e.Description)
}

// wrap breaks text into indented lines of at most width columns.
func wrap(text, indent string, width int) string {
	var b strings.Builder
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	b.WriteString(line + "\n")
	return b.String()
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
