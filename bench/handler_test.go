package bench

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest"
)

// BenchmarkHandler measures, in this process and without a network, what
// an accepted request with a cached token costs through each framework's
// handler beyond the same route open: the CPU time and the allocations
// bouncer adds, which the load benchmark shows as part of a server's
// whole cost per request. Open and protected requests alternate in
// batches, and "Δns/req" is the median difference over the batches.
func BenchmarkHandler(b *testing.B) {
	iss, err := bearertest.NewIssuer(bearertest.WithAudience("country-api"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(iss.Close)
	v, err := bearer.New(bearer.Config{Issuer: iss.URL(), Audiences: []string{"country-api"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	auth := "Bearer " + iss.MustMint(b, map[string]any{"scope": scope + " customer.read", "azp": "country-client"})
	frameworks := []struct {
		name    string
		handler func() inProcess
	}{
		{"nethttp", func() inProcess { return httpInProcess(netHTTPHandler(v)) }},
		{"gin", func() inProcess { return httpInProcess(ginHandler(v)) }},
		{"echo", func() inProcess { return httpInProcess(echoHandler(v)) }},
		{"echo5", func() inProcess { return httpInProcess(echo5Handler(v)) }},
		{"fiber", func() inProcess { return fastInProcess(fiberApp(v).Handler()) }},
		{"fiber3", func() inProcess { return fastInProcess(fiber3App(v).Handler()) }},
	}
	for _, fw := range frameworks {
		b.Run(fw.name, func(b *testing.B) {
			h := fw.handler()
			open, protected := h(pathOpen, auth), h(pathProtected, auth)
			for _, serve := range []func() int{open, protected} {
				if status := serve(); status != http.StatusOK {
					b.Fatalf("status %d", status)
				}
			}
			const batch = 256
			timed := func(serve func() int) time.Duration {
				start := time.Now()
				for range batch {
					serve()
				}
				return time.Since(start)
			}
			var o, p, d []float64
			for b.Loop() {
				to, tp := timed(open), timed(protected)
				o, p = append(o, float64(to)/batch), append(p, float64(tp)/batch)
				d = append(d, float64(tp-to)/batch)
			}
			b.ReportMetric(median(o), "open-ns/req")
			b.ReportMetric(median(p), "protected-ns/req")
			b.ReportMetric(median(d), "Δns/req")
			ao := testing.AllocsPerRun(1000, func() { open() })
			ap := testing.AllocsPerRun(1000, func() { protected() })
			b.ReportMetric(ap-ao, "Δallocs/req")
		})
	}
}

// inProcess makes a function that serves one GET of path with the
// Authorization header auth and returns the status.
type inProcess func(path, auth string) (serve func() int)

// discard is a ResponseWriter that keeps nothing.
type discard struct {
	header http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.header }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(status int)      { d.status = status }

func httpInProcess(h http.Handler) inProcess {
	return func(path, auth string) func() int {
		// A server's request context, never context.Background().
		ctx, cancel := context.WithCancel(context.Background())
		_ = cancel
		r := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
		r.Header.Set("Authorization", auth)
		w := &discard{header: http.Header{}}
		return func() int {
			clear(w.header)
			w.status = http.StatusOK
			h.ServeHTTP(w, r)
			return w.status
		}
	}
}

func fastInProcess(h fasthttp.RequestHandler) inProcess {
	return func(path, auth string) func() int {
		var c fasthttp.RequestCtx
		c.Request.Header.SetMethod(http.MethodGet)
		c.Request.SetRequestURI(path)
		c.Request.Header.Set("Authorization", auth)
		return func() int {
			c.ResetUserValues() // as fasthttp's server does between requests
			c.Response.Reset()
			h(&c)
			return c.Response.StatusCode()
		}
	}
}
