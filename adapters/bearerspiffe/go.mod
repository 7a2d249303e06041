module github.com/bouncer-go/bouncer/adapters/bearerspiffe

go 1.26.0

require (
	github.com/bouncer-go/bouncer/core v0.1.0
	github.com/go-jose/go-jose/v4 v4.1.8
	github.com/spiffe/go-spiffe/v2 v2.9.0
	google.golang.org/grpc v1.79.3
)

require (
	filippo.io/bigmod v0.1.0 // indirect
	github.com/Microsoft/go-winio v0.6.2 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	golang.org/x/net v0.48.0 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sys v0.39.0 // indirect
	golang.org/x/text v0.32.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20251202230838-ff82c1b0f217 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/bouncer-go/bouncer/core => ../../core
