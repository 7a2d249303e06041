# Every module of the workspace; each is vetted and tested on its own.
MODULES := $(shell go list -m -f '{{.Dir}}' 2>/dev/null)
NPM_ISSUER := testdata/oidc-provider

.PHONY: test fmt-check vet standalone unit deps bench run fuzz

test: fmt-check vet standalone deps unit

deps: $(NPM_ISSUER)/node_modules/.package-lock.json

$(NPM_ISSUER)/node_modules/.package-lock.json: $(NPM_ISSUER)/package-lock.json
	npm ci --prefix $(NPM_ISSUER) --no-audit --no-fund

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path '*/node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	@for m in $(MODULES); do echo "go vet $$m"; (cd $$m && go vet ./...) || exit 1; done

# Every module must also build on its own, as users get it, through its
# replace directives rather than the workspace.
standalone:
	@for m in $(MODULES); do echo "GOWORK=off go build $$m"; (cd $$m && GOWORK=off go build ./... && GOWORK=off go vet ./...) || exit 1; done

# The race detector runs on every module; the examples module holds the
# integration tests against the real oidc-provider issuer. Allocation
# counts are asserted again without it, which changes them (tests named
# *Allocat*).
unit:
	@for m in $(MODULES); do echo "go test -race $$m"; (cd $$m && go test -race -count=1 ./... && go test -count=1 -run Allocat ./...) || exit 1; done

# Verification against the bare standard-library check (ratios measured in
# interleaved rounds), the cache, token extraction, many issuers, DPoP
# against its proof's signature, RSA with prepared keys; then what a
# protected route adds through each framework's handler in process; then
# the saturated-server load table of every front door, protected against
# open (it needs a quiet machine of two cores or more, and says so when it
# did not have one), and memory under a flood of distinct tokens.
bench:
	cd core && go test -run '^$$' -bench . -benchmem ./bearer/ ./internal/rsakey/
	cd bench && go test -run '^$$' -bench Handler .
	cd bench && go test -run '^$$' -bench 'Load|CacheFlood' -benchtime 1x .

run:
	go run ./examples/nethttp

# Every fuzz target of every module, FUZZTIME each (not part of make test).
# FUZZFLAGS passes more flags, e.g. FUZZFLAGS=-parallel=1.
FUZZTIME ?= 3m
fuzz:
	@for m in $(MODULES); do \
	  for p in $$(cd $$m && go list ./...); do \
	    for t in $$(cd $$m && go test -list '^Fuzz' $$p | grep '^Fuzz'); do \
	      echo "== $$t ($$p, $(FUZZTIME))"; \
	      (cd $$m && go test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) $(FUZZFLAGS) $$p) || exit 1; \
	    done; \
	  done; \
	done
