package tokenclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"

	"golang.org/x/oauth2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/bouncer-go/bouncer/adapters/bearergrpc"
	"github.com/bouncer-go/bouncer/examples/grpc/countrypb"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

// callGRPC calls GetCountry at addr with the tokens of ts, printing the
// status, the challenge of a refusal, and the answer as the HTTP API
// writes it. An address on loopback is called in plaintext, as the
// example server serves; any other over TLS, since a token must not cross
// a network in the clear.
func callGRPC(ctx context.Context, ts oauth2.TokenSource, addr string, out io.Writer) error {
	transport, tokens := credentials.NewTLS(nil), bearergrpc.TokenSource(ts)
	if isLoopback(addr) {
		transport, tokens = insecure.NewCredentials(), bearergrpc.TokenSource(ts, bearergrpc.WithInsecureTransport())
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(transport), grpc.WithPerRPCCredentials(tokens))
	if err != nil {
		return fmt.Errorf("calling the API: %w", err)
	}
	defer conn.Close()

	fmt.Fprintf(out, "GetCountry %s at %s\n", lookupCode, addr)
	var header, trailer metadata.MD
	c, err := countrypb.NewCountryServiceClient(conn).GetCountry(ctx, &countrypb.GetCountryRequest{Code: lookupCode}, grpc.Header(&header), grpc.Trailer(&trailer))
	st := status.Convert(err)
	fmt.Fprintf(out, "%s\n", st.Code())
	if err != nil {
		// bearergrpc sends the challenge with the status, as a trailer; a
		// server on net/http (Connect) as a header.
		for _, ch := range append(header.Get("www-authenticate"), trailer.Get("www-authenticate")...) {
			fmt.Fprintf(out, "www-authenticate: %s\n", ch)
		}
		fmt.Fprintf(out, "%s\n", st.Message())
		return fmt.Errorf("the API answered %s", st.Code())
	}
	body, err := json.Marshal(countryapi.Country{Code: c.GetCode(), Name: c.GetName()})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s\n", body)
	return nil
}

// isLoopback reports whether addr ("host:port") names this machine:
// localhost or a loopback address.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
