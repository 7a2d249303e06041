package bench

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The HTTP/1.1 load generator writes requests prepared in advance as raw
// bytes on keep-alive connections and reads each answer only as far as
// its framing needs (the status code and Content-Length, or chunked
// encoding), so that a request costs it far less CPU time than it costs
// the server. net/http's client costs about as much as the server per
// request: a server driven by it is never shown saturated.
//
// It runs every connection from one thread with epoll, as the servers it
// measures do: a request costs it one write and about one read, without
// the extra read, the park and the wake-up of a goroutine per connection
// that Go's net package would add. While answers are due it polls rather
// than sleeps (it has a core of its own): over loopback, the writer of an
// answer pays for waking its reader, and a server should not pay for
// waking a client that would not be on its machine. The time it spends
// polling for nothing is counted apart (loadResult.idle), so that what it
// spends per request can be told from what it waits.

// loadConfig is one measured window of load.
type loadConfig struct {
	conns int // connections
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
	latency    histogram     // per request: from its batch's write to its answer
	idle       time.Duration // the generator's CPU time in polls that found nothing
	err        error         // the first failure, for the report
}

func (r *loadResult) merge(o *loadResult) {
	r.ok += o.ok
	r.failed += o.failed
	r.latency.merge(&o.latency)
	r.idle += o.idle
	if r.err == nil {
		r.err = o.err
	}
}

func (r *loadResult) fail(err error) {
	r.failed++
	if r.err == nil {
		r.err = err
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

// spinFor is how long the generator polls without an answer before it
// sleeps: far longer than a saturated server takes to answer one of its
// connections, far shorter than a round.
const spinFor = 2 * time.Millisecond

// h1Conn is one keep-alive connection: a non-blocking socket, the bytes
// read and not yet parsed, and the batch in flight.
type h1Conn struct {
	fd      int
	buf     []byte
	r0, w0  int // unparsed bytes: buf[r0:w0]
	pending int // answers still expected for the batch in flight
	batchN  int // requests in the batch in flight
	sent    time.Time
	out     []byte
	sentN   int64 // requests this window sent on the connection
	done    bool  // no more requests this window
}

// h1Conns are the generator's connections, kept open from one window to
// the next as a real client's would be.
type h1Conns struct {
	epfd  int
	conns []*h1Conn
}

func dialH1(addr string, n int) (*h1Conns, error) {
	ap, err := net.ResolveTCPAddr("tcp4", addr)
	if err != nil {
		return nil, err
	}
	sa := &unix.SockaddrInet4{Port: ap.Port}
	copy(sa.Addr[:], ap.IP.To4())
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	c := &h1Conns{epfd: epfd}
	for range n {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			c.close()
			return nil, err
		}
		c.conns = append(c.conns, &h1Conn{fd: fd, buf: make([]byte, 64<<10), out: make([]byte, 0, 16<<10)})
		if err := unix.Connect(fd, sa); err != nil {
			c.close()
			return nil, err
		}
		// As Go's net package does: requests are written whole, and must
		// not wait for the previous one's ACK.
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1); err != nil {
			c.close()
			return nil, err
		}
		if err := unix.SetNonblock(fd, true); err != nil {
			c.close()
			return nil, err
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(len(c.conns) - 1)}
		if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

func (c *h1Conns) close() {
	for _, conn := range c.conns {
		unix.Close(conn.fd)
	}
	unix.Close(c.epfd)
}

// run drives one window over every connection, from the calling thread.
func (c *h1Conns) run(cfg loadConfig, set *requestSet) loadResult {
	var res loadResult
	budget := max(cfg.max/int64(len(c.conns)), 1)
	start := time.Now()
	deadline := start.Add(cfg.duration)
	hardStop := deadline.Add(30 * time.Second) // a server that stopped answering
	busy := 0
	for _, conn := range c.conns {
		conn.sentN, conn.done = 0, false
		if err := conn.send(cfg, set, &res); err != nil {
			res.err = err
			return res
		}
		if conn.pending > 0 {
			busy++
		}
	}
	events := make([]unix.EpollEvent, len(c.conns))
	polled := time.Now()
	for busy > 0 {
		// Poll without sleeping for up to spinFor since the last answer,
		// then sleep until one comes.
		timeout := 0
		if time.Since(polled) > spinFor {
			timeout = 100
		}
		before := time.Now()
		n, err := unix.EpollWait(c.epfd, events, timeout)
		if err != nil && !errors.Is(err, unix.EINTR) {
			res.err = err
			break
		}
		now := time.Now()
		if n <= 0 {
			if timeout == 0 { // a sleeping poll takes no CPU time
				res.idle += now.Sub(before)
			}
			if now.After(hardStop) {
				res.err = fmt.Errorf("%d connections stopped answering", busy)
				break
			}
			continue
		}
		polled = now
		stop := now.After(deadline)
		for _, ev := range events[:max(n, 0)] {
			conn := c.conns[ev.Fd]
			if conn.pending == 0 {
				continue
			}
			finished, err := conn.receive(now, &res)
			if err != nil {
				res.err = err
				res.elapsed = time.Since(start)
				return res
			}
			if !finished {
				continue
			}
			if stop || conn.sentN >= budget {
				conn.done = true
			} else if err := conn.send(cfg, set, &res); err != nil {
				res.err = err
				res.elapsed = time.Since(start)
				return res
			}
			if conn.pending == 0 {
				busy--
			}
		}
	}
	res.elapsed = time.Since(start)
	return res
}

// send writes the connection's next batch, if there are requests left.
func (conn *h1Conn) send(cfg loadConfig, set *requestSet, res *loadResult) error {
	var n int
	conn.out, n = set.batch(conn.out[:0], cfg.depth)
	if n == 0 {
		return nil
	}
	conn.pending, conn.batchN, conn.sent = n, n, time.Now()
	conn.sentN += int64(n)
	for b := conn.out; len(b) > 0; {
		w, err := unix.Write(conn.fd, b)
		switch {
		case errors.Is(err, unix.EAGAIN):
			fds := []unix.PollFd{{Fd: int32(conn.fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(fds, 1000); err != nil && !errors.Is(err, unix.EINTR) {
				return err
			}
		case errors.Is(err, unix.EINTR):
		case err != nil:
			return err
		default:
			b = b[w:]
		}
	}
	return nil
}

// receive reads what the socket holds and parses every whole answer in
// it; finished reports the batch answered.
func (conn *h1Conn) receive(now time.Time, res *loadResult) (finished bool, err error) {
	if conn.r0 > 0 && conn.r0 == conn.w0 {
		conn.r0, conn.w0 = 0, 0
	}
	if conn.w0 == len(conn.buf) { // make room
		conn.w0 = copy(conn.buf, conn.buf[conn.r0:conn.w0])
		conn.r0 = 0
	}
	n, err := unix.Read(conn.fd, conn.buf[conn.w0:])
	switch {
	case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR):
		return false, nil
	case err != nil:
		return false, err
	case n == 0:
		return false, errors.New("the server closed the connection")
	}
	conn.w0 += n
	for conn.pending > 0 {
		status, used, err := parseResponse(conn.buf[conn.r0:conn.w0])
		if err != nil {
			return false, err
		}
		if used == 0 {
			if conn.r0 == 0 && conn.w0 == len(conn.buf) {
				return false, errors.New("an answer larger than the read buffer")
			}
			return false, nil
		}
		conn.r0 += used
		conn.pending--
		if status == 200 {
			res.ok++
		} else {
			res.fail(fmt.Errorf("status %d", status))
		}
	}
	lat := now.Sub(conn.sent)
	for range conn.batchN {
		res.latency.add(lat)
	}
	return true, nil
}

var (
	crlf          = []byte("\r\n")
	crlf2         = []byte("\r\n\r\n")
	contentLength = []byte("content-length:")
	chunked       = []byte("transfer-encoding: chunked")
)

// parseResponse reads the HTTP/1.1 response at the start of b: its status
// and how many bytes it takes, or 0 when b does not hold all of it yet.
func parseResponse(b []byte) (status, used int, err error) {
	i := bytes.Index(b, crlf2)
	if i < 0 {
		return 0, 0, nil
	}
	head := b[:i+4]
	if len(head) < 12 || !bytes.HasPrefix(head, []byte("HTTP/1.1 ")) {
		return 0, 0, fmt.Errorf("not an HTTP/1.1 response: %q", head[:min(len(head), 40)])
	}
	if status, err = strconv.Atoi(string(head[9:12])); err != nil {
		return 0, 0, fmt.Errorf("bad status line %q", head[:12])
	}
	length, isChunked := -1, false
	for line := range bytes.SplitSeq(head, crlf) {
		if len(line) > len(contentLength) && bytes.EqualFold(line[:len(contentLength)], contentLength) {
			if length, err = strconv.Atoi(string(bytes.TrimSpace(line[len(contentLength):]))); err != nil || length < 0 {
				return 0, 0, fmt.Errorf("bad Content-Length %q", line)
			}
		} else if bytes.EqualFold(line, chunked) {
			isChunked = true
		}
	}
	switch {
	case isChunked:
		n, err := chunkedLength(b[len(head):])
		if n == 0 || err != nil {
			return 0, 0, err
		}
		return status, len(head) + n, nil
	case length < 0:
		return 0, 0, errors.New("a response without Content-Length or chunked encoding")
	case len(head)+length > len(b):
		return 0, 0, nil
	}
	return status, len(head) + length, nil
}

// chunkedLength is the length of the chunked body and (empty) trailer at
// the start of b, or 0 when b does not hold all of it yet.
func chunkedLength(b []byte) (int, error) {
	at := 0
	for {
		i := bytes.Index(b[at:], crlf)
		if i < 0 {
			return 0, nil
		}
		line := b[at : at+i]
		if j := bytes.IndexByte(line, ';'); j >= 0 {
			line = line[:j]
		}
		size, err := strconv.ParseUint(string(bytes.TrimSpace(line)), 16, 31)
		if err != nil {
			return 0, fmt.Errorf("bad chunk size %q", line)
		}
		at += i + 2
		if size == 0 {
			for { // trailer fields, up to the empty line
				i := bytes.Index(b[at:], crlf)
				if i < 0 {
					return 0, nil
				}
				at += i + 2
				if i == 0 {
					return at, nil
				}
			}
		}
		at += int(size) + 2
		if at > len(b) {
			return 0, nil
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
