package bearer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// maxDocumentBytes bounds what is read from a discovery or JWKS answer: real
// key sets are a few kilobytes, and an issuer (or something pretending to be
// one) must not be able to make a verifier buffer without limit.
const maxDocumentBytes = 1 << 20

// statusError is a non-200 answer, kept so discovery can tell 404 from an
// outage, with the Retry-After of a 429 or 503.
type statusError struct {
	url        string
	status     int
	retryAfter time.Duration
}

// retryAfterOf is the wait an issuer asked for in the answer that err
// reports, or zero.
func retryAfterOf(err error) time.Duration {
	var se *statusError
	if errors.As(err, &se) {
		return se.retryAfter
	}
	return 0
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}

func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d", e.url, e.status)
}

// getDocument fetches url and returns its body, bounded in size, and its
// headers.
func getDocument(ctx context.Context, client *http.Client, url string) ([]byte, http.Header, error) {
	return fetchDocument(ctx, client, url, false)
}

// fetchDocument is getDocument; fresh asks every cache on the way (a CDN in
// front of the issuer, a caching proxy or transport) to revalidate with
// the issuer rather than answer from what it stored (RFC 9111 §5.2.1.4):
// a refetch for a kid the last set lacked must see the issuer's current
// set. No conditional request is ever sent, so a 304 is refused like any
// other answer that is not 200.
func fetchDocument(ctx context.Context, client *http.Client, url string, fresh bool) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if fresh {
		req.Header.Set("Cache-Control", "no-cache")
		req.Header.Set("Pragma", "no-cache") // HTTP/1.0 caches
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		se := &statusError{url: url, status: resp.StatusCode}
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			se.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		return nil, nil, se
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if len(body) > maxDocumentBytes {
		return nil, nil, fmt.Errorf("GET %s: answer larger than %d bytes", url, maxDocumentBytes)
	}
	return body, resp.Header, nil
}

// defaultHTTPClient bounds connecting and the whole exchange, so a hung
// issuer costs a request at most a few seconds.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 5 * time.Second
	t.ResponseHeaderTimeout = 10 * time.Second
	t.MaxResponseHeaderBytes = 64 << 10
	return &http.Client{Timeout: 15 * time.Second, Transport: t}
}
