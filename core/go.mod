module github.com/bouncer-go/bouncer/core

go 1.25.0

require (
	filippo.io/bigmod v0.1.0
	github.com/coreos/go-oidc/v3 v3.21.0
	github.com/go-jose/go-jose/v4 v4.1.8
)

require (
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sys v0.11.0 // indirect
)
