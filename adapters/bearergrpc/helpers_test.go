package bearergrpc_test

import (
	"context"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/core/bearer"
	"github.com/bouncer-go/bouncer/core/bearertest/conformance"
)

// The test service has a unary method for each route of the conformance
// suite and a server-streaming one, Watch. Every method answers the
// conformance Body of the claims its handler finds, so that tests need no
// generated code.
const serviceName = "bouncer.test.Guarded"

var methodFor = map[string]string{
	conformance.PathAuthenticated: "/" + serviceName + "/Authenticated",
	conformance.PathScoped:        "/" + serviceName + "/Scoped",
	conformance.PathPolicy:        "/" + serviceName + "/Policy",
	conformance.PathOptional:      "/" + serviceName + "/Optional",
	conformance.PathSkipped:       "/" + serviceName + "/Skipped",
}

const watchMethod = "/" + serviceName + "/Watch"

// watchAnswers is how many messages Watch sends.
const watchAnswers = 2

func answer(ctx context.Context) *wrapperspb.BytesValue {
	c, _ := bearergrpc.Claims(ctx)
	fromCtx, _ := bearer.FromContext(ctx)
	return wrapperspb.Bytes(conformance.Body(c, fromCtx))
}

func unaryMethod(name string) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			handler := func(ctx context.Context, _ any) (any, error) { return answer(ctx), nil }
			if interceptor == nil {
				return handler(ctx, in)
			}
			return interceptor(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + serviceName + "/" + name}, handler)
		},
	}
}

var guardedService = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{
		unaryMethod("Authenticated"), unaryMethod("Scoped"), unaryMethod("Policy"),
		unaryMethod("Optional"), unaryMethod("Skipped"),
	},
	Streams: []grpc.StreamDesc{{
		StreamName:    "Watch",
		ServerStreams: true,
		Handler: func(_ any, stream grpc.ServerStream) error {
			if err := stream.RecvMsg(new(emptypb.Empty)); err != nil {
				return err
			}
			for range watchAnswers {
				if err := stream.SendMsg(answer(stream.Context())); err != nil {
					return err
				}
			}
			return nil
		},
	}},
}

// serve starts a server with auth's interceptors on a loopback port, stops
// it when t ends, and returns the address.
func serve(t *testing.T, auth *bearergrpc.Interceptor, opts ...grpc.ServerOption) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, grpc.ChainUnaryInterceptor(auth.Unary), grpc.ChainStreamInterceptor(auth.Stream))
	srv := grpc.NewServer(opts...)
	srv.RegisterService(&guardedService, struct{}{})
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return l.Addr().String()
}

// plaintext is the dial option of a connection without TLS.
var plaintext = grpc.WithTransportCredentials(insecure.NewCredentials())

// dial connects to addr and closes the connection when t ends.
func dial(t *testing.T, addr string, opts ...grpc.DialOption) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// call invokes a unary method of the test service, returning the answer,
// the trailer and the error.
func call(ctx context.Context, conn *grpc.ClientConn, method string, opts ...grpc.CallOption) ([]byte, metadata.MD, error) {
	var trailer metadata.MD
	out := new(wrapperspb.BytesValue)
	err := conn.Invoke(ctx, method, &emptypb.Empty{}, out, append(opts, grpc.Trailer(&trailer))...)
	return out.GetValue(), trailer, err
}
