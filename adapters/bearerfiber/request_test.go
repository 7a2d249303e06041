package bearerfiber

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// seen is what request handed package bearer during one request.
type seen struct {
	auth, contentType, query, form []string
	method, path                   string
}

func copyAll(values []string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = strings.Clone(v)
	}
	return out
}

// TestRequestReadsTheRequest checks what request answers while the
// handler runs, calls following each other as package bearer makes them:
// Header's slice is reused from one call to the next, its strings are the
// request's.
func TestRequestReadsTheRequest(t *testing.T) {
	var got []seen
	var pooled []*request
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.All("/*", func(c *fiber.Ctx) error {
		q := newRequest(c)
		var s seen
		// Copies: the strings are the request's, which fasthttp reuses.
		s.auth = copyAll(q.Header("Authorization"))
		s.contentType = copyAll(q.Header("Content-Type"))
		s.query, s.form = q.Query("access_token"), q.Form("access_token")
		s.method, s.path = strings.Clone(q.Method()), strings.Clone(q.Path())
		if len(q.Header("X-Absent")) != 0 {
			t.Error("values for a header the request does not have")
		}
		got = append(got, s)
		q.release()
		pooled = append(pooled, q)
		return nil
	})
	methods := []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	want := func(i int) seen {
		n := strings.Repeat(string(rune('a'+i)), 8)
		return seen{
			auth:        []string{"Bearer h1" + n, "Bearer h2" + n, "Bearer h3" + n},
			contentType: []string{"application/x-www-form-urlencoded; x=" + n},
			query:       []string{"q" + n},
			form:        []string{"f" + n},
			method:      methods[i%len(methods)],
			path:        "/a%2Fb/" + n,
		}
	}
	const n = 8
	for i := range n {
		w := want(i)
		r := httptest.NewRequest(w.method, w.path+"?access_token="+w.query[0], strings.NewReader("access_token="+w.form[0]))
		r.Header = http.Header{"Authorization": w.auth, "Content-Type": w.contentType}
		resp, err := app.Test(r, -1)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if len(got) != n {
		t.Fatalf("saw %d requests", len(got))
	}
	for i, g := range got {
		w := want(i)
		if !slices.Equal(g.auth, w.auth) || !slices.Equal(g.contentType, w.contentType) || !slices.Equal(g.query, w.query) ||
			!slices.Equal(g.form, w.form) || g.method != w.method || g.path != w.path {
			t.Errorf("request %d: got %+v; want %+v", i, g, w)
		}
	}
	// A released request holds no view of a buffer fasthttp will reuse.
	for _, q := range pooled {
		if q.c != nil || len(q.values) != 0 || slices.ContainsFunc(q.values[:cap(q.values)], func(s string) bool { return s != "" }) {
			t.Fatalf("a released request still holds %v", q.values[:cap(q.values)])
		}
	}
}
