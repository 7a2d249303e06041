package bench

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2/hpack"
)

// The gRPC load generator speaks HTTP/2 itself, as the HTTP/1.1 one
// speaks HTTP/1.1: each call is a HEADERS frame prepared in advance
// (HPACK literals that never touch the dynamic table, so the bytes are
// the same for every call but the stream ID) and a DATA frame with the
// request message, written a batch at a time; the answers are read frame
// by frame, decoding only header blocks, to find each call's grpc-status.
// grpc-go's own client costs about as much per call as the server, so it
// cannot show the server saturated on a machine of two cores.

const (
	frameData         = 0x0
	frameHeaders      = 0x1
	frameRSTStream    = 0x3
	frameSettings     = 0x4
	framePing         = 0x6
	frameGoAway       = 0x7
	frameWindowUpdate = 0x8
	frameContinuation = 0x9

	flagEndStream  = 0x1
	flagAck        = 0x1
	flagEndHeaders = 0x4
	flagPadded     = 0x8
	flagPriority   = 0x20
)

const h2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// bigWindow is the flow-control window the generator gives the server, so
// that answers never wait for a WINDOW_UPDATE.
const bigWindow = 1 << 30

// grpcCall is a unary call as HTTP/2 frames with stream ID 0, to be
// patched: a HEADERS frame and a DATA frame ending the stream.
type grpcCall struct {
	frames    []byte
	dataStart int // offset of the DATA frame
	dataLen   int // its payload length, for flow control
}

// newGRPCCall prepares a unary call of method (a full method name,
// "/pkg.Service/Method") on authority, with the extra headers (lower-case
// names) and the serialized request message.
func newGRPCCall(authority, method string, header [][2]string, msg []byte) grpcCall {
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	fields := [][2]string{
		{":method", "POST"}, {":scheme", "http"}, {":path", method}, {":authority", authority},
		{"content-type", "application/grpc"}, {"te", "trailers"}, {"user-agent", "bouncer-bench"},
	}
	for _, f := range append(fields, header...) {
		// Never-indexed literals leave the dynamic table empty, so every
		// call's block is the same bytes.
		_ = enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1], Sensitive: true})
	}
	payload := make([]byte, 5+len(msg)) // gRPC's length-prefixed message
	binary.BigEndian.PutUint32(payload[1:5], uint32(len(msg)))
	copy(payload[5:], msg)
	var c grpcCall
	c.frames = appendFrame(nil, frameHeaders, flagEndHeaders, 0, block.Bytes())
	c.dataStart = len(c.frames)
	c.frames = appendFrame(c.frames, frameData, flagEndStream, 0, payload)
	c.dataLen = len(payload)
	return c
}

func appendFrame(b []byte, typ, flags byte, stream uint32, payload []byte) []byte {
	n := len(payload)
	b = append(b, byte(n>>16), byte(n>>8), byte(n), typ, flags)
	b = binary.BigEndian.AppendUint32(b, stream&0x7fffffff)
	return append(b, payload...)
}

// h2Conn is one HTTP/2 connection of the gRPC generator.
type h2Conn struct {
	conn       net.Conn
	rd         io.Reader
	nextStream uint32
	sendWindow int64 // the server's connection-level window for our DATA
	received   int64 // DATA bytes received since our last WINDOW_UPDATE
	dec        *hpack.Decoder
	status     string // grpc-status of the header block being decoded
	hdr        [9]byte
	payload    []byte
	out        []byte
}

func dialH2(addr string) (*h2Conn, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &h2Conn{conn: conn, nextStream: 1, sendWindow: 65535, payload: make([]byte, 0, 64<<10)}
	c.rd = &bufferedReader{r: conn, buf: make([]byte, 64<<10)}
	c.dec = hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if f.Name == "grpc-status" {
			c.status = f.Value
		}
	})
	settings := []byte{0, 2, 0, 0, 0, 0, 0, 4} // ENABLE_PUSH 0, INITIAL_WINDOW_SIZE:
	settings = binary.BigEndian.AppendUint32(settings, bigWindow)
	b := append([]byte(h2Preface), appendFrame(nil, frameSettings, 0, 0, settings)...)
	b = appendFrame(b, frameWindowUpdate, 0, 0, binary.BigEndian.AppendUint32(nil, bigWindow-65535))
	if _, err := conn.Write(b); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// bufferedReader is a minimal bufio.Reader for io.ReadFull of frames.
type bufferedReader struct {
	r      io.Reader
	buf    []byte
	r0, w0 int
}

func (b *bufferedReader) Read(p []byte) (int, error) {
	if b.r0 == b.w0 {
		if len(p) >= len(b.buf) {
			return b.r.Read(p)
		}
		n, err := b.r.Read(b.buf)
		if n == 0 {
			return 0, err
		}
		b.r0, b.w0 = 0, n
	}
	n := copy(p, b.buf[b.r0:b.w0])
	b.r0 += n
	return n, nil
}

// readFrame reads one frame: its type, flags, stream and payload (valid
// until the next read).
func (c *h2Conn) readFrame() (typ, flags byte, stream uint32, payload []byte, err error) {
	if _, err = io.ReadFull(c.rd, c.hdr[:]); err != nil {
		return
	}
	n := int(c.hdr[0])<<16 | int(c.hdr[1])<<8 | int(c.hdr[2])
	typ, flags = c.hdr[3], c.hdr[4]
	stream = binary.BigEndian.Uint32(c.hdr[5:]) & 0x7fffffff
	if cap(c.payload) < n {
		c.payload = make([]byte, n)
	}
	payload = c.payload[:n]
	_, err = io.ReadFull(c.rd, payload)
	return
}

// handle answers the connection's own frames (SETTINGS, PING,
// WINDOW_UPDATE, DATA's flow control) and reports a stream that ended
// (done), with whether its call succeeded.
func (c *h2Conn) handle(typ, flags byte, stream uint32, payload []byte) (done, ok bool, err error) {
	switch typ {
	case frameSettings:
		if flags&flagAck == 0 {
			c.out = appendFrame(c.out, frameSettings, flagAck, 0, nil)
		}
	case framePing:
		if flags&flagAck == 0 {
			c.out = appendFrame(c.out, framePing, flagAck, 0, payload)
		}
	case frameWindowUpdate:
		if stream == 0 && len(payload) == 4 {
			c.sendWindow += int64(binary.BigEndian.Uint32(payload) & 0x7fffffff)
		}
	case frameData:
		c.received += int64(len(payload))
		if c.received > bigWindow/2 {
			c.out = appendFrame(c.out, frameWindowUpdate, 0, 0, binary.BigEndian.AppendUint32(nil, uint32(c.received)))
			c.received = 0
		}
		if flags&flagEndStream != 0 {
			return true, false, nil // a gRPC answer ends with trailers
		}
	case frameHeaders:
		if flags&flagEndHeaders == 0 {
			return false, false, errors.New("header block continued in CONTINUATION frames")
		}
		if flags&flagPadded != 0 {
			if len(payload) < 1 || int(payload[0]) > len(payload)-1 {
				return false, false, errors.New("bad padding")
			}
			payload = payload[1 : len(payload)-int(payload[0])]
		}
		if flags&flagPriority != 0 {
			if len(payload) < 5 {
				return false, false, errors.New("bad priority")
			}
			payload = payload[5:]
		}
		c.status = ""
		if _, err := c.dec.Write(payload); err != nil {
			return false, false, err
		}
		if err := c.dec.Close(); err != nil {
			return false, false, err
		}
		if flags&flagEndStream != 0 {
			return true, c.status == "0", nil
		}
	case frameRSTStream:
		return true, false, nil
	case frameGoAway:
		return false, false, errors.New("the server sent GOAWAY")
	case frameContinuation:
		return false, false, errors.New("unexpected CONTINUATION frame")
	}
	return false, false, nil
}

// flush writes the frames the connection owes the server.
func (c *h2Conn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.conn.Write(c.out)
	c.out = c.out[:0]
	return err
}

// h2Worker makes batches of depth calls on c until stop or its share of
// the count.
func h2Worker(c *h2Conn, call grpcCall, cfg loadConfig, budget int64, stop *atomic.Bool) loadResult {
	var res loadResult
	_ = c.conn.SetDeadline(time.Now().Add(cfg.duration + 30*time.Second))
	fail := func(err error) loadResult {
		res.err = err
		return res
	}
	for !stop.Load() && res.ok+res.failed < budget {
		need := int64(cfg.depth * call.dataLen)
		for c.sendWindow < need { // wait for the server's WINDOW_UPDATE
			typ, flags, stream, p, err := c.readFrame()
			if err != nil {
				return fail(err)
			}
			if _, _, err := c.handle(typ, flags, stream, p); err != nil {
				return fail(err)
			}
		}
		for range cfg.depth {
			start := len(c.out)
			c.out = append(c.out, call.frames...)
			binary.BigEndian.PutUint32(c.out[start+5:], c.nextStream)
			binary.BigEndian.PutUint32(c.out[start+call.dataStart+5:], c.nextStream)
			c.nextStream += 2
		}
		c.sendWindow -= need
		sent := time.Now()
		if err := c.flush(); err != nil {
			return fail(err)
		}
		for pending := cfg.depth; pending > 0; {
			typ, flags, stream, p, err := c.readFrame()
			if err != nil {
				return fail(err)
			}
			done, ok, err := c.handle(typ, flags, stream, p)
			if err != nil {
				return fail(err)
			}
			if !done {
				continue
			}
			pending--
			if ok {
				res.ok++
			} else {
				res.failed++
				if res.err == nil {
					res.err = fmt.Errorf("call on stream %d failed (grpc-status %q)", stream, c.status)
				}
			}
		}
		if err := c.flush(); err != nil {
			return fail(err)
		}
		lat := time.Since(sent)
		for range cfg.depth {
			res.latency.add(lat)
		}
	}
	return res
}

// h2Conns are the gRPC generator's connections, kept from one window to
// the next.
type h2Conns struct{ conns []*h2Conn }

func dialH2Conns(addr string, n int) (*h2Conns, error) {
	cs := &h2Conns{}
	for range n {
		c, err := dialH2(addr)
		if err != nil {
			cs.close()
			return nil, err
		}
		cs.conns = append(cs.conns, c)
	}
	return cs, nil
}

func (cs *h2Conns) close() {
	for _, c := range cs.conns {
		c.conn.Close()
	}
}

func (cs *h2Conns) run(cfg loadConfig, call grpcCall) loadResult {
	var stop atomic.Bool
	perConn := max(cfg.max/int64(len(cs.conns)), 1)
	results := make([]loadResult, len(cs.conns))
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.AfterFunc(cfg.duration, func() { stop.Store(true) })
	for i, c := range cs.conns {
		wg.Go(func() { results[i] = h2Worker(c, call, cfg, perConn, &stop) })
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
