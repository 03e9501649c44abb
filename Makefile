# Dialtone build and test entry points. `make test` is the one command that
# runs every test on a fresh machine (it installs what the tests need first).

GO ?= go
FUZZTIME ?= 6s

.PHONY: test deps unit race compat examples fuzz-short vet build run bench

test: deps vet race compat examples fuzz-short

deps:
	@scripts/install-deps.sh

build:
	CGO_ENABLED=0 $(GO) build -o dialtone ./cmd/dialtone

run:
	$(GO) run ./cmd/dialtone serve

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...
	cd compat && $(GO) vet ./...
	cd examples/go && $(GO) vet ./...
	CGO_ENABLED=0 $(GO) build -o /dev/null ./cmd/dialtone

race:
	$(GO) test -race -count=1 ./...

unit:
	$(GO) test -count=1 ./...

compat:
	cd compat && $(GO) test -count=1 ./...

# The runnable samples under examples/go, each against a fresh server.
examples:
	cd examples/go && $(GO) test -count=1 ./...

# Every fuzz target for a short, fixed time; run longer by hand with FUZZTIME=5m.
fuzz-short:
	@scripts/fuzz.sh $(FUZZTIME)

bench:
	$(GO) test -run='^$$' -bench=. -benchtime=2s ./gateway/
