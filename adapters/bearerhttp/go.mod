module github.com/bouncer-go/bouncer/adapters/bearerhttp

go 1.25.0

require github.com/bouncer-go/bouncer/core v0.1.0

require (
	filippo.io/bigmod v0.1.0 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sys v0.11.0 // indirect
)

replace github.com/bouncer-go/bouncer/core => ../../core
