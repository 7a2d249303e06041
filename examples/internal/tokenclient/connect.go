package tokenclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"connectrpc.com/connect/v2"
	"connectrpc.com/connect/v2/connecthttp"

	"github.com/bouncer-go/bouncer/examples/grpc/countrypb"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb/countrypbconnect"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// callConnect calls GetCountry of the Connect API at baseURL through
// client, which sends the token, over the Connect protocol or, with
// protocol "grpcweb", gRPC-Web, printing the code, the challenge of a
// refusal, and the answer as the HTTP API writes it.
func callConnect(ctx context.Context, client *http.Client, baseURL, protocol string, out io.Writer) error {
	var opts []connecthttp.Option
	if protocol == "grpcweb" {
		opts = append(opts, connecthttp.WithGRPCWeb())
	} else {
		protocol = "connect"
	}
	c := countrypbconnect.NewCountryServiceClient(connect.NewClient(connecthttp.NewTransport(client, baseURL, opts...)))

	fmt.Fprintf(out, "GetCountry %s at %s (%s)\n", lookupCode, baseURL, protocol)
	ctx, info := connect.NewClientContext(ctx)
	got, err := c.GetCountry(ctx, &countrypb.GetCountryRequest{Code: lookupCode})
	if err != nil {
		code := connect.CodeOf(err)
		fmt.Fprintf(out, "%s\n", code)
		for _, ch := range info.ResponseHeader().Values("WWW-Authenticate") {
			fmt.Fprintf(out, "WWW-Authenticate: %s\n", ch)
		}
		if ce, ok := errors.AsType[*connect.Error](err); ok {
			fmt.Fprintf(out, "%s\n", ce.Message())
		}
		return fmt.Errorf("the API answered %s", code)
	}
	fmt.Fprintln(out, "ok")
	body, err := json.Marshal(countryapi.Country{Code: got.GetCode(), Name: got.GetName()})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n", body)
	return nil
}
