// Unpublished: the repository's own release and consumer-test tools; no
// release tags this module.
module github.com/bouncer-go/bouncer/tools

go 1.25.0

require golang.org/x/mod v0.37.0

require github.com/bouncer-go/bouncer/core v0.1.0

replace github.com/bouncer-go/bouncer/core => ../core

replace github.com/bouncer-go/bouncer/gateway => ../gateway
