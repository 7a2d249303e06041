// Unpublished: the repository's own release and consumer-test tools; no
// release tags this module.
module github.com/bouncer-go/bouncer/tools

go 1.26.0

require golang.org/x/mod v0.43.0

replace github.com/bouncer-go/bouncer/core => ../core
