// Command grpc is the country API of bouncer's examples over gRPC: a
// service that accepts OAuth2 client-credentials access tokens in the
// authorization metadata.
//
//	country.v1.CountryService/GetCountry  needs a token with scope country.read
//	grpc.health.v1.Health                 open
//	grpc.reflection.v1.ServerReflection   open, so that grpcurl needs no .proto
//
// Environment: ISSUER_URL and AUDIENCE (comma-separated) name the issuer
// and this API's audience; ADDR is the listen address (default :8091);
// LOG_LEVEL=debug logs every refusal (info, the default, a summary).
// Without ISSUER_URL an embedded development issuer is started and the
// commands to try the API are printed.
//
// The service is in package grpcapi, its protocol in countrypb.
package main

import (
	"github.com/bouncer-go/bouncer/examples/grpc/grpcapi"
	"github.com/bouncer-go/bouncer/examples/internal/countryapi"
)

func main() { countryapi.Main(grpcapi.Run) }
