module github.com/bouncer-go/bouncer/adapters/bearerredis

go 1.26.0

require (
	github.com/bouncer-go/bouncer/core v0.1.0
	github.com/redis/go-redis/v9 v9.23.0
)

require (
	filippo.io/bigmod v0.1.0 // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/coreos/go-oidc/v3 v3.21.0 // indirect
	github.com/go-jose/go-jose/v4 v4.1.8 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/oauth2 v0.36.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/bouncer-go/bouncer/core => ../../core
