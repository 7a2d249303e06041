module github.com/bouncer-go/bouncer/adapters/bearerconnect

go 1.26.0

require (
	connectrpc.com/connect/v2 v2.0.2
	github.com/bouncer-go/bouncer/core v0.1.0
	golang.org/x/oauth2 v0.36.0
	google.golang.org/protobuf v1.36.11
)

require (
	filippo.io/bigmod v0.1.0 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	golang.org/x/sys v0.11.0 // indirect
)

replace github.com/bouncer-go/bouncer/core => ../../core
