package bearerfiber3

import (
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gofiber/fiber/v3"
)

// seen is what request handed package bearer during one request.
type seen struct {
	auth, contentType, query, form []string
	method                         string
}

// TestValuesOutliveRequest keeps what request returns past the handler
// while later requests reuse fasthttp's buffers over the same keep-alive
// connection: what package bearer keeps must not change under it.
func TestValuesOutliveRequest(t *testing.T) {
	var (
		mu   sync.Mutex
		kept []seen
	)
	app := fiber.New()
	app.All("/", func(c fiber.Ctx) error {
		q := request{c}
		mu.Lock()
		defer mu.Unlock()
		kept = append(kept, seen{
			auth:        q.Header("Authorization"),
			contentType: q.Header("Content-Type"),
			query:       q.Query("access_token"),
			form:        q.Form("access_token"),
			method:      q.Method(),
		})
		return nil
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln, fiber.ListenConfig{DisableStartupMessage: true}) }()
	t.Cleanup(func() { _ = app.Shutdown() })
	client := &http.Client{Transport: &http.Transport{Proxy: nil}}
	t.Cleanup(client.CloseIdleConnections)

	methods := []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	want := func(i int) seen {
		n := strings.Repeat(string(rune('a'+i)), 8)
		return seen{
			auth:        []string{"Bearer h1" + n, "Bearer h2" + n},
			contentType: []string{"application/x-www-form-urlencoded; x=" + n},
			query:       []string{"q" + n},
			form:        []string{"f" + n},
			method:      methods[i%len(methods)],
		}
	}
	const n = 20
	for i := range n {
		w := want(i)
		r, _ := http.NewRequest(w.method, "http://"+ln.Addr().String()+"/?access_token="+w.query[0],
			strings.NewReader("access_token="+w.form[0]))
		r.Header = http.Header{"Authorization": w.auth, "Content-Type": w.contentType}
		resp, err := client.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	mu.Lock()
	defer mu.Unlock()
	if len(kept) != n {
		t.Fatalf("kept %d requests", len(kept))
	}
	for i, got := range kept {
		w := want(i)
		if !slices.Equal(got.auth, w.auth) || !slices.Equal(got.contentType, w.contentType) ||
			!slices.Equal(got.query, w.query) || !slices.Equal(got.form, w.form) || got.method != w.method {
			t.Errorf("request %d changed after it ended: got %+v; want %+v", i, got, w)
		}
	}
}
