# outposts-ha. `make test` installs what the tests need (scripts/setup.sh) and runs every tier.
SHELL := /bin/bash
GO    ?= go
export PATH := $(CURDIR)/.venv/bin:$(PATH)

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)

.PHONY: all build lambda setup test vet unit integration e2e fuzz lint bench mutation clean

all: build

## build: the CLI (with the failover function bundle embedded) into bin/
build: lambda
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/outposts-ha ./cmd/outposts-ha

## lambda: the failover function for provided.al2023 on arm64, zipped into assets/lambda
lambda:
	@mkdir -p build
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags '-s -w' -o build/bootstrap ./cmd/recovery-lambda
	$(GO) run ./internal/tools/mkzip -o assets/lambda/bootstrap.zip -name bootstrap build/bootstrap

## setup: Debian packages, private iPXE, Python venv (moto, cfn-lint); pinned, idempotent
setup:
	@scripts/setup.sh

## test: everything CI runs; missing tools fail instead of skipping
test: export OUTPOSTS_HA_REQUIRE_TOOLS = 1
test: setup build vet lint unit integration e2e fuzz
	@echo "make test: all tiers passed"

vet:
	$(GO) vet ./...
	$(GO) vet -tags integration ./...
	$(GO) vet -tags sanboot_e2e ./...

lint:
	@fmt=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi
	shellcheck scripts/*.sh .ci/run

## unit: fast tests, no network (golden files, shellcheck and cfn-lint on rendered artifacts)
unit:
	$(GO) test -count=1 ./...

## integration: the real AWS SDK against a private moto server on loopback
integration:
	scripts/with-moto.sh $(GO) test -count=1 -tags integration -timeout 15m ./...

## e2e: rendered iPXE scripts boot in qemu from a real tgt target, in private network namespaces;
## the strongest case boots the user data read back from the recovery launch template stored in moto
e2e:
	scripts/with-moto.sh env SANBOOT_E2E=1 $(GO) test -count=1 -tags sanboot_e2e -timeout 15m ./internal/sanlab/...

## fuzz: short fuzz runs of the validators and renderers (an execution count per target, not a duration)
fuzz:
	scripts/fuzz.sh

## bench: Go benchmarks and whole-process timings
bench: build
	scripts/bench.sh

## mutation: gremlins (pinned) on sanboot, internal/spec and the storage clients; slow, not part of test
mutation:
	scripts/mutation.sh

clean:
	rm -rf bin build out
