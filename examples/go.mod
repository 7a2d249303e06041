module github.com/bouncer-go/bouncer/examples

go 1.26.0

require (
	github.com/bouncer-go/bouncer/adapters/bearerhttp v0.0.0
	github.com/bouncer-go/bouncer/core v0.0.0
)

require golang.org/x/oauth2 v0.37.0

require (
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
)

replace (
	github.com/bouncer-go/bouncer/adapters/bearerhttp => ../adapters/bearerhttp
	github.com/bouncer-go/bouncer/core => ../core
)
