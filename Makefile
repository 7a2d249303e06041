# Every module of the workspace; each is vetted and tested on its own.
MODULES := $(shell go list -m -f '{{.Dir}}' 2>/dev/null)
NPM_ISSUER := testdata/oidc-provider

.PHONY: test fmt-check vet versions standalone unit deps java-deps caddy consumer clean-tree release tidy bench run fuzz

test: fmt-check vet versions standalone deps caddy unit consumer clean-tree

# Caddy, for the gateway's live tests: built from the test-only module in
# testdata/caddy (not part of go.work) into a cache outside the
# repository, reused between runs, so no test builds it. The path names
# the version: a new one in testdata/caddy/go.mod is built afresh.
CADDY_VERSION := $(shell sed -n 's|.*github.com/caddyserver/caddy/v2 \(v[^ ]*\).*|\1|p' testdata/caddy/go.mod)
CADDY_BIN := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/bouncer/caddy-$(CADDY_VERSION)/caddy

caddy: $(CADDY_BIN)

$(CADDY_BIN):
	cd testdata/caddy && GOWORK=off go build -o $(CADDY_BIN) .

deps: $(NPM_ISSUER)/node_modules/.package-lock.json java-deps

$(NPM_ISSUER)/node_modules/.package-lock.json: $(NPM_ISSUER)/package-lock.json
	npm ci --prefix $(NPM_ISSUER) --no-audit --no-fund

# Keycloak's distribution (through Maven, started once for its build step)
# and the Spring Authorization Server of testdata, built with Maven, into
# the cache (~/.cache/bouncer): the integration tests run both. Needs a JDK
# and Maven; BOUNCER_SKIP_JAVA=1 skips them (and those tests).
java-deps:
	go run ./examples/internal/javaissuer/prepare

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path '*/node_modules/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	@for m in $(MODULES); do echo "go vet $$m"; (cd $$m && go vet ./...) || exit 1; done

# The modules require each other at one version, a real one (see
# tools/release): what a user's go get resolves.
versions:
	go run ./tools/release check

# Every module must also build on its own, outside the workspace, from its
# go.mod and go.sum alone (the repository's modules from their directories).
standalone:
	go run ./tools/release standalone

# The published modules as users get them: from a module proxy holding
# this working tree at the next version, into fresh modules outside the
# repository, each adapter used as the README shows and called once, and
# the command installed with go install (see tools/consumer).
consumer:
	go run ./tools/consumer

# A test run must leave the tree as it found it: nothing written, nothing
# downloaded into go.sum or go.work.sum. Run make test on a committed tree.
clean-tree:
	@out=$$(git status --porcelain); \
	if [ -n "$$out" ]; then echo "the working tree is not clean (uncommitted changes, or files a step wrote):"; echo "$$out"; exit 1; fi

# go mod tidy in every module, cmd/bouncer included (plain go mod tidy
# there needs the core version it requires to be tagged already).
tidy:
	go run ./tools/release tidy

# Prepare a release: every requirement between the modules becomes
# VERSION, go.sum files are tidied, and the tags to push are printed.
release:
	@test -n "$(VERSION)" || { echo "usage: make release VERSION=vX.Y.Z"; exit 64; }
	go run ./tools/release set $(VERSION)

# The race detector runs on every module; the examples module holds the
# integration tests against the real issuers (oidc-provider, Keycloak,
# Spring Authorization Server), whose starts on a busy machine need more
# than go test's default ten minutes. Allocation counts are asserted again
# without it, which changes them (tests named *Allocat*).
unit:
	@for m in $(MODULES); do echo "go test -race $$m"; (cd $$m && go test -race -count=1 -timeout 30m ./... && go test -count=1 -run Allocat ./...) || exit 1; done

# Verification against the bare standard-library check (ratios measured in
# interleaved rounds), the cache, token extraction, many issuers, DPoP
# against its proof's signature, RSA with prepared keys; then what a
# protected route adds through each framework's handler in process; then
# the saturated-server load table of every front door, protected against
# open (it needs a quiet machine of two cores or more, and says so when it
# did not have one), and memory under a flood of distinct tokens; then the
# gateway: an ext_authz Check and a forward-auth check against a bare round
# trip, and requests per second and p50/p99 through nginx and Caddy with
# bouncer serve deciding against the proxy alone.
bench: deps caddy
	cd core && go test -run '^$$' -bench . -benchmem ./bearer/ ./internal/rsakey/
	cd bench && go test -run '^$$' -bench Handler .
	cd bench && go test -run '^$$' -bench 'Load|CacheFlood' -benchtime 1x .
	cd gateway && go test -run '^$$' -bench . -benchtime 5000x .
	cd examples && go test -run '^$$' -bench Gateway -benchtime 1x ./integration/

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
