package bearerconnect_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/bouncer-go/bouncer/adapters/bearerconnect"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

// The test service has a unary procedure for each route of the
// conformance suite and a server-streaming one, Watch. Every procedure
// answers the conformance Body of the claims its handler finds, so that
// tests need no generated code. The unary procedures have no side
// effects, so that Connect clients may call them with GET.
const serviceName = "bouncer.test.Guarded"

var procedureFor = map[string]string{
	conformance.PathAuthenticated: "/" + serviceName + "/Authenticated",
	conformance.PathScoped:        "/" + serviceName + "/Scoped",
	conformance.PathPolicy:        "/" + serviceName + "/Policy",
	conformance.PathOptional:      "/" + serviceName + "/Optional",
	conformance.PathSkipped:       "/" + serviceName + "/Skipped",
}

const watchProcedure = "/" + serviceName + "/Watch"

// watchAnswers is how many messages Watch sends.
const watchAnswers = 2

func unarySpec(procedure string) connect.Spec {
	return connect.Spec{StreamType: connect.StreamTypeUnary, IdempotencyLevel: connect.IdempotencyNoSideEffects, Procedure: procedure}
}

var watchSpec = connect.Spec{StreamType: connect.StreamTypeServer, Procedure: watchProcedure}

func answer(ctx context.Context) *wrapperspb.BytesValue {
	c, _ := bearerconnect.Claims(ctx)
	fromCtx, _ := bearer.FromContext(ctx)
	return wrapperspb.Bytes(conformance.Body(c, fromCtx))
}

// register adds the test service to server.
func register(server *connect.Server) {
	for _, p := range procedureFor {
		server.Register(connect.Method{Spec: unarySpec(p), Handler: func(ctx context.Context, _ connect.Spec, stream connect.ServerStream) error {
			if err := stream.Receive(new(emptypb.Empty)); err != nil {
				return err
			}
			return stream.Send(answer(ctx))
		}})
	}
	server.Register(connect.Method{Spec: watchSpec, Handler: func(ctx context.Context, _ connect.Spec, stream connect.ServerStream) error {
		if err := stream.Receive(new(emptypb.Empty)); err != nil {
			return err
		}
		for range watchAnswers {
			if err := stream.Send(answer(ctx)); err != nil {
				return err
			}
		}
		return nil
	}})
}

// serve starts the test service, guarded by auth, on a loopback port (over
// TLS with tlsConfig unless it is nil; in plaintext with HTTP/1.1 and
// HTTP/2), stops it when t ends, and returns its base URL. wrap, when set,
// wraps the mux.
func serve(t *testing.T, auth *bearerconnect.Interceptor, tlsConfig *tls.Config, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	server := connect.NewServer(auth.Intercept)
	register(server)
	mux := http.NewServeMux()
	connecthttp.Mount(mux, server)
	var h http.Handler = mux
	if wrap != nil {
		h = wrap(mux)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	scheme := "https"
	if tlsConfig == nil {
		scheme = "http"
		srv.Protocols = new(http.Protocols)
		srv.Protocols.SetHTTP1(true)
		srv.Protocols.SetUnencryptedHTTP2(true)
		go func() { _ = srv.Serve(l) }()
	} else {
		srv.TLSConfig = tlsConfig.Clone()
		go func() { _ = srv.ServeTLS(l, "", "") }()
	}
	t.Cleanup(func() { _ = srv.Close() })
	return scheme + "://" + l.Addr().String()
}

// A protocol is how a client calls the test service: Connect (with POST,
// or GET for the procedures without side effects), gRPC or gRPC-Web.
type protocol struct {
	name string
	opts []connecthttp.Option
	// get says whether unary calls are GETs.
	get bool
}

var protocols = []protocol{
	{name: "connect"},
	{name: "connect GET", opts: []connecthttp.Option{connecthttp.WithHTTPGet()}, get: true},
	{name: "grpc", opts: []connecthttp.Option{connecthttp.WithGRPC()}},
	{name: "grpc-web", opts: []connecthttp.Option{connecthttp.WithGRPCWeb()}},
}

// client is a Connect client of base over p, with HTTP/2 (over TLS with
// tlsConfig unless it is nil), closed when t ends.
func client(t *testing.T, base string, p protocol, tlsConfig *tls.Config) *connect.Client {
	t.Helper()
	tr := &http.Transport{Proxy: nil, TLSClientConfig: tlsConfig, Protocols: new(http.Protocols)}
	if tlsConfig == nil {
		tr.Protocols.SetUnencryptedHTTP2(true)
	} else {
		tr.Protocols.SetHTTP2(true)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return connect.NewClient(connecthttp.NewTransport(&http.Client{Transport: tr, Timeout: 15 * time.Second}, base, p.opts...))
}

// callWith calls a unary procedure of the test service with header,
// returning the answer, the call's CallInfo and its error.
func callWith(ctx context.Context, c *connect.Client, procedure string, header http.Header) ([]byte, *connect.CallInfo, error) {
	ctx, info := connect.NewClientContext(ctx)
	for name, values := range header {
		for _, v := range values {
			info.RequestHeader().Add(name, v)
		}
	}
	out := new(wrapperspb.BytesValue)
	err := c.CallUnary(ctx, unarySpec(procedure), &emptypb.Empty{}, out)
	return out.GetValue(), info, err
}

// watch calls Watch with header and returns the messages, the CallInfo and
// the error.
func watch(ctx context.Context, c *connect.Client, header http.Header) ([]string, *connect.CallInfo, error) {
	ctx, info := connect.NewClientContext(ctx)
	for name, values := range header {
		for _, v := range values {
			info.RequestHeader().Add(name, v)
		}
	}
	stream, err := c.CallServerStream(ctx, watchSpec, &emptypb.Empty{})
	if err != nil {
		return nil, info, err
	}
	defer stream.Close()
	var got []string
	for {
		out := new(wrapperspb.BytesValue)
		err := stream.Receive(out)
		if errors.Is(err, io.EOF) {
			return got, info, nil
		}
		if err != nil {
			return got, info, err
		}
		got = append(got, string(out.GetValue()))
	}
}

func bearerHeader(tok string) http.Header {
	if tok == "" {
		return nil
	}
	return http.Header{"Authorization": {"Bearer " + tok}}
}

// message is the message of err as a Connect error.
func message(err error) string {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Message()
	}
	return ""
}
