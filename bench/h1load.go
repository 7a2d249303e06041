package bench

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// The HTTP/1.1 load generator writes requests prepared in advance as raw
// bytes on keep-alive connections and reads each answer only as far as
// its framing needs (the status code and Content-Length, or chunked
// encoding), so that a request costs it far less CPU time than it costs
// the server. net/http's client costs about as much as the server per
// request: a server driven by it is never shown saturated.

// loadConfig is one measured window of load.
type loadConfig struct {
	addr  string
	conns int // connections, each with one goroutine
	// depth is how many requests a connection has in flight: 1 writes a
	// request and waits for its answer; more are written at once
	// (pipelined) and their answers read in order.
	depth    int
	duration time.Duration // the window ends after duration...
	max      int64         // ...or after max requests, whichever is first
}

// loadResult is what a window measured on the generator's side.
type loadResult struct {
	ok, failed int64
	elapsed    time.Duration
	latency    histogram // per request: from its batch's write to its answer
	err        error     // the first failure, for the report
}

func (r *loadResult) merge(o *loadResult) {
	r.ok += o.ok
	r.failed += o.failed
	r.latency.merge(&o.latency)
	if r.err == nil {
		r.err = o.err
	}
}

// requestSet is the requests a window sends: one request repeated, or
// distinct requests each sent once (DPoP proofs are single-use), shared
// out between connections.
type requestSet struct {
	reqs [][]byte
	next atomic.Int64 // for distinct requests: the next one to take
}

func repeat(req []byte) *requestSet { return &requestSet{reqs: [][]byte{req}} }

func distinct(reqs [][]byte) *requestSet { return &requestSet{reqs: reqs} }

// batch appends depth requests to buf: the repeated one, or the next
// distinct ones. It returns how many it appended: fewer than depth when
// the distinct requests run out.
func (s *requestSet) batch(buf []byte, depth int) ([]byte, int) {
	if len(s.reqs) == 1 {
		for range depth {
			buf = append(buf, s.reqs[0]...)
		}
		return buf, depth
	}
	end := s.next.Add(int64(depth))
	start := end - int64(depth)
	end = min(end, int64(len(s.reqs)))
	n := 0
	for i := start; i < end; i++ {
		buf = append(buf, s.reqs[i]...)
		n++
	}
	return buf, n
}

// remaining is how many distinct requests are left; -1 for a repeated
// request.
func (s *requestSet) remaining() int64 {
	if len(s.reqs) == 1 {
		return -1
	}
	return max(int64(len(s.reqs))-s.next.Load(), 0)
}

// h1Conns are the keep-alive connections of the HTTP/1.1 generator, kept
// open from one window to the next as a real client's would be.
type h1Conns struct {
	conns []net.Conn
}

func dialH1(addr string, n int) (*h1Conns, error) {
	c := &h1Conns{}
	for range n {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			c.close()
			return nil, err
		}
		c.conns = append(c.conns, conn)
	}
	return c, nil
}

func (c *h1Conns) close() {
	for _, conn := range c.conns {
		conn.Close()
	}
}

// run drives one window over every connection.
func (c *h1Conns) run(cfg loadConfig, set *requestSet) loadResult {
	var stop atomic.Bool
	perConn := max(cfg.max/int64(len(c.conns)), 1)
	results := make([]loadResult, len(c.conns))
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.AfterFunc(cfg.duration, func() { stop.Store(true) })
	for i, conn := range c.conns {
		wg.Go(func() { results[i] = h1Worker(conn, cfg, set, perConn, &stop) })
	}
	wg.Wait()
	timer.Stop()
	var total loadResult
	total.elapsed = time.Since(start)
	for i := range results {
		total.merge(&results[i])
	}
	return total
}

// h1Worker sends batches of cfg.depth requests on conn until stop, its
// share of the count, or the distinct requests run out.
func h1Worker(conn net.Conn, cfg loadConfig, set *requestSet, budget int64, stop *atomic.Bool) loadResult {
	var res loadResult
	_ = conn.SetDeadline(time.Now().Add(cfg.duration + 30*time.Second))
	rd := responseReader{r: conn, buf: make([]byte, 64<<10)}
	out := make([]byte, 0, 16<<10)
	for !stop.Load() && res.ok+res.failed < budget {
		var n int
		out, n = set.batch(out[:0], cfg.depth)
		if n == 0 {
			break
		}
		sent := time.Now()
		if _, err := conn.Write(out); err != nil {
			res.failed += int64(n)
			res.err = err
			return res
		}
		for range n {
			status, err := rd.next()
			if err != nil {
				res.failed++
				res.err = err
				return res
			}
			if status == 200 {
				res.ok++
			} else {
				res.failed++
				if res.err == nil {
					res.err = fmt.Errorf("status %d", status)
				}
			}
		}
		lat := time.Since(sent)
		for range n {
			res.latency.add(lat)
		}
	}
	return res
}

// responseReader reads HTTP/1.1 responses one after the other from a
// connection, parsing only their status and framing.
type responseReader struct {
	r    io.Reader
	buf  []byte
	r0   int // start of unread bytes
	w0   int // end of unread bytes
	body int // body bytes of the current response still to skip
}

var (
	crlf2         = []byte("\r\n\r\n")
	contentLength = []byte("content-length:")
	chunked       = []byte("transfer-encoding: chunked")
)

// fill reads more bytes, moving what is unread to the front first.
func (rr *responseReader) fill() error {
	if rr.r0 > 0 {
		rr.w0 = copy(rr.buf, rr.buf[rr.r0:rr.w0])
		rr.r0 = 0
	}
	if rr.w0 == len(rr.buf) {
		return errors.New("response header larger than the read buffer")
	}
	n, err := rr.r.Read(rr.buf[rr.w0:])
	rr.w0 += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// next reads one whole response and returns its status code.
func (rr *responseReader) next() (int, error) {
	var end int
	for {
		if i := bytes.Index(rr.buf[rr.r0:rr.w0], crlf2); i >= 0 {
			end = rr.r0 + i + 4
			break
		}
		if err := rr.fill(); err != nil {
			return 0, err
		}
	}
	head := rr.buf[rr.r0:end]
	if len(head) < 12 || !bytes.HasPrefix(head, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("not an HTTP/1.1 response: %q", head[:min(len(head), 40)])
	}
	status, err := strconv.Atoi(string(head[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", head[:12])
	}
	length, isChunked := -1, false
	for line := range bytes.SplitSeq(head, []byte("\r\n")) {
		if len(line) > len(contentLength) && bytes.EqualFold(line[:len(contentLength)], contentLength) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(line[len(contentLength):]))); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", line)
			}
		} else if bytes.EqualFold(line, chunked) {
			isChunked = true
		}
	}
	rr.r0 = end
	switch {
	case isChunked:
		return status, rr.skipChunks()
	case length < 0:
		return 0, errors.New("a response without Content-Length or chunked encoding")
	}
	return status, rr.skip(length)
}

// skip discards n bytes of body.
func (rr *responseReader) skip(n int) error {
	for n > 0 {
		if rr.r0 == rr.w0 {
			rr.r0, rr.w0 = 0, 0
			if err := rr.fill(); err != nil {
				return err
			}
		}
		k := min(n, rr.w0-rr.r0)
		rr.r0 += k
		n -= k
	}
	return nil
}

// line returns the next CRLF-terminated line, without its CRLF.
func (rr *responseReader) line() ([]byte, error) {
	for {
		if i := bytes.Index(rr.buf[rr.r0:rr.w0], crlf2[:2]); i >= 0 {
			l := rr.buf[rr.r0 : rr.r0+i]
			rr.r0 += i + 2
			return l, nil
		}
		if err := rr.fill(); err != nil {
			return nil, err
		}
	}
}

// skipChunks discards a chunked body and its (empty) trailer.
func (rr *responseReader) skipChunks() error {
	for {
		l, err := rr.line()
		if err != nil {
			return err
		}
		if i := bytes.IndexByte(l, ';'); i >= 0 {
			l = l[:i]
		}
		size, err := strconv.ParseUint(string(bytes.TrimSpace(l)), 16, 31)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", l)
		}
		if size == 0 {
			for { // trailer fields, up to the empty line
				l, err := rr.line()
				if err != nil {
					return err
				}
				if len(l) == 0 {
					return nil
				}
			}
		}
		if err := rr.skip(int(size) + 2); err != nil {
			return err
		}
	}
}

// httpRequest is the raw bytes of a request: method and target, the Host
// header, the extra header lines, and a body with its Content-Length.
func httpRequest(method, target, host string, header []string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: bouncer-bench\r\nAccept: */*\r\n", method, target, host)
	for _, h := range header {
		b.WriteString(h)
		b.WriteString("\r\n")
	}
	if body != nil {
		fmt.Fprintf(&b, "Content-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}
