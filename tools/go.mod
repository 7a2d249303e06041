// Unpublished: the repository's own release and consumer-test tools; no
// release tags this module.
module github.com/bouncer-go/bouncer/tools

go 1.25.0

require golang.org/x/mod v0.37.0

require (
	github.com/bouncer-go/bouncer/core v0.1.0
	github.com/spiffe/go-spiffe/v2 v2.9.0
	google.golang.org/grpc v1.84.0
)

require (
	golang.org/x/net v0.57.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.40.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260706201446-f0a921348800 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/bouncer-go/bouncer/core => ../core

replace github.com/bouncer-go/bouncer/gateway => ../gateway
