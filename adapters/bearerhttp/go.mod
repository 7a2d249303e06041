module github.com/bouncer-go/bouncer/adapters/bearerhttp

go 1.25.0

require github.com/bouncer-go/bouncer/core v0.0.0

replace github.com/bouncer-go/bouncer/core => ../../core
