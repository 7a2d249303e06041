package bearer

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// maxDocumentBytes bounds what is read from a discovery or JWKS answer: real
// key sets are a few kilobytes, and an issuer (or something pretending to be
// one) must not be able to make a verifier buffer without limit.
const maxDocumentBytes = 1 << 20

// statusError is a non-200 answer, kept so discovery can tell 404 from an
// outage.
type statusError struct {
	url    string
	status int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d", e.url, e.status)
}

// getDocument fetches url and returns its body, bounded in size, and its
// headers.
func getDocument(ctx context.Context, client *http.Client, url string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, nil, &statusError{url: url, status: resp.StatusCode}
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
