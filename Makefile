# Emothe: everyday commands. `make up` runs the main job, `make test` runs
# every test; both bootstrap what they need through `make tools`.
SHELL := bash
EMOTHE_HOME ?= $(HOME)/.emothe
export PATH := $(EMOTHE_HOME)/bin:/usr/local/go/bin:$(PATH)

STACK ?= local
# Local stacks keep state in the repo's .pulumi-state and use a passphrase
# that is for local use only; other stacks bring their own (see README).
ifeq ($(STACK),local)
export PULUMI_BACKEND_URL ?= file://$(CURDIR)/.pulumi-state
export PULUMI_CONFIG_PASSPHRASE ?= emothe-local-only
endif
export PULUMI_SKIP_UPDATE_CHECK := true
# Every build drops its source paths, as the Go language host's build of
# main.go does: the build cache then serves one compiled package to the
# tools, the program, the tests and the lint, from whatever checkout they
# build (scripts/align-tools.sh says why that matters on a fresh machine).
export GOFLAGS := -trimpath $(filter-out -trimpath,$(GOFLAGS))

# -p 4 on a 2-core machine: the long suites wait on Docker and on the fake's
# delays far more than they compute, so four at once finish sooner than two.
GO_TEST ?= go test -count=1 -timeout 30m -p 4

.PHONY: all tools provider up preview destroy secrets drift stack rollback move-data switch test unit e2e bench codegen check-codegen lint
all: test

## tools: install and start what builds and tests need (idempotent).
tools:
	@scripts/tools.sh

## provider: build the flyio provider plugin onto PATH ($(EMOTHE_HOME)/bin).
PROVIDER_VERSION ?= 0.1.0
provider:
	go build -o $(EMOTHE_HOME)/bin/pulumi-resource-flyio \
		-ldflags "-X github.com/emothe/emothe/provider.Version=$(PROVIDER_VERSION)" ./provider/cmd/pulumi-resource-flyio

## up: bring the stack up (default: the local stack on the local Docker engine).
up: tools provider
	go run ./tools/stack -stack $(STACK) up

preview: tools provider
	go run ./tools/stack -stack $(STACK) preview

destroy: tools provider
	go run ./tools/stack -stack $(STACK) destroy

## drift: preview with refresh; a JSON report tells drift from errors.
drift: tools provider
	go run ./tools/stack -stack $(STACK) drift

## secrets: generate any unset stack secrets (never printed); ROTATE=<key>
## regenerates that one (secretKeyBase) although it is set.
secrets: tools
	go run ./tools/stack -stack $(STACK) $(if $(ROTATE),-rotate $(ROTATE)) secrets

## stack: create stack STACK on BACKEND (fly or compose): a commented
## Pulumi.<stack>.yaml and the stack in the state backend.
BACKEND ?= fly
stack: tools
	go run ./tools/stack -stack $(STACK) -backend $(BACKEND) stack

## rollback: put back the previous successful release's image, or TO=<digest>.
rollback: tools provider
	go run ./tools/stack -stack $(STACK) $(if $(TO),-to $(TO)) rollback

## move-data: copy stack FROM's database over stack TO's, with TO's app
## stopped, then compare row counts; FORCE=1 overwrites a TO that holds data.
move-data: tools
	go run ./tools/stack -from "$(FROM)" -to "$(TO)" $(if $(FORCE),-force) move-data

## switch: move stack STACK to backend TO (fly or compose) with its data:
## the new database, the copy, then the new app; the old database is kept
## (FORCE=1 switches an unprotected stack, deleting it). docs/switching.md.
switch: tools provider
	go run ./tools/stack -stack $(STACK) -to "$(TO)" $(if $(FORCE),-force) switch

## test: everything — codegen freshness, lint, unit, end-to-end; the lint
## runs alongside the tests, and the slowest packages are listed at the end.
test: tools check-codegen
	@GO_TEST="$(GO_TEST)" scripts/test.sh

unit:
	$(GO_TEST) -short ./...

## e2e: the end-to-end suites (image, and later Fly and Compose).
e2e: tools
	$(GO_TEST) ./tests/...

## bench: every benchmark, reported by go test -bench. A request or a
## container start is cheap and wants many samples; a rollout or an `up` is
## one whole scenario per op.
bench: tools
	go test -run '^$$' -bench . -benchtime 20000x ./app
	go test -run '^$$' -bench . -benchtime 5x ./tests/image
	go test -run '^$$' -bench . -benchtime 1x -timeout 60m $$(go list ./... | grep -v -e '/app$$' -e '/tests/image$$')

## codegen: regenerate the Fly client, the fake's server, the provider schema and SDK.
codegen:
	go generate ./provider/...
	go run ./tools/gensdk

# check-codegen regenerates and fails when the committed output differs.
check-codegen: codegen
	@git diff --exit-code --stat -- provider sdk || { echo 'generated code is stale: run make codegen and commit'; exit 1; }
	@test -z "$$(git status --porcelain --untracked-files=all -- provider sdk)" || { git status --short -- provider sdk; echo 'generated files are not committed'; exit 1; }

## lint: gofmt, go vet, golangci-lint (.golangci.yml), actionlint, and the tool
## modules' versions (scripts/align-tools.sh). golangci-lint is built once, at the
## version tools/golangci-lint pins, into $(EMOTHE_HOME)/bin; it is built first, as
## `make test` starts the lint beside the tests' own build of the packages vet needs.
lint:
	@v=$$(cd tools/golangci-lint && go list -m -f '{{.Version}}' github.com/golangci/golangci-lint/v2) && \
	bin=$(EMOTHE_HOME)/bin/golangci-lint-$$v && \
	if [ ! -x "$$bin" ]; then \
		echo "golangci-lint: building $$v into $(EMOTHE_HOME)/bin (a minute, once)" && mkdir -p $(EMOTHE_HOME)/bin && \
		(cd tools/golangci-lint && go build -o "$$bin.tmp" -ldflags "-X main.version=$${v#v}" github.com/golangci/golangci-lint/v2/cmd/golangci-lint) && \
		mv "$$bin.tmp" "$$bin"; \
	fi && \
	{ test -z "$$(gofmt -l $$(git ls-files '*.go' | grep -v '^sdk/'))" || { gofmt -l $$(git ls-files '*.go' | grep -v '^sdk/'); echo 'gofmt: the files above need formatting'; exit 1; }; } && \
	echo "go vet ./..." && go vet ./... && \
	echo "$$bin run ./..." && "$$bin" run ./...
	@scripts/actionlint.sh
	@scripts/align-tools.sh --check
