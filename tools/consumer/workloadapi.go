package main

import (
	"errors"
	"net"
	"os"
	"sync"

	"github.com/spiffe/go-spiffe/v2/proto/spiffe/workload"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// workloadAPI is the part of a SPIRE agent's Workload API that go-spiffe's
// JWTSource reads: it streams the JWT bundles of the trust domains (by
// SPIFFE ID, each a JWKS) to callers that send the Workload API's header.
type workloadAPI struct {
	workload.UnimplementedSpiffeWorkloadAPIServer
	bundles map[string][]byte
}

func (a *workloadAPI) FetchJWTBundles(_ *workload.JWTBundlesRequest, stream grpc.ServerStreamingServer[workload.JWTBundlesResponse]) error {
	if md, _ := metadata.FromIncomingContext(stream.Context()); len(md.Get("workload.spiffe.io")) != 1 || md.Get("workload.spiffe.io")[0] != "true" {
		return status.Error(codes.InvalidArgument, "security header missing from request")
	}
	if err := stream.Send(&workload.JWTBundlesResponse{Bundles: a.bundles}); err != nil {
		return err
	}
	<-stream.Context().Done()
	return nil
}

// startWorkloadAPI serves bundles on the Unix socket at path, and returns
// its address as SPIFFE_ENDPOINT_SOCKET gives it.
func startWorkloadAPI(path string, bundles map[string][]byte) (string, func(), error) {
	l, err := net.Listen("unix", path)
	if err != nil {
		return "", nil, err
	}
	srv := grpc.NewServer()
	workload.RegisterSpiffeWorkloadAPIServer(srv, &workloadAPI{bundles: bundles})
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			_, _ = os.Stderr.WriteString("consumer: workload API: " + err.Error() + "\n")
		}
	})
	return "unix://" + path, func() { srv.Stop(); wg.Wait() }, nil
}
