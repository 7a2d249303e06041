module github.com/bouncer-go/bouncer/adapters/bearergrpc

go 1.25.0

require (
	github.com/bouncer-go/bouncer/core v0.1.0
	golang.org/x/oauth2 v0.36.0
	google.golang.org/grpc v1.84.0
	google.golang.org/protobuf v1.36.11
)

require (
	filippo.io/bigmod v0.1.0 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.40.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260706201446-f0a921348800 // indirect
)

replace github.com/bouncer-go/bouncer/core => ../../core
