# The two commands of the README: `make run` and `make test`.
SHELL := /usr/bin/env bash
GO    ?= go
export GOTOOLCHAIN ?= local
SQLC  := $(GO) tool -modfile=tools/sqlc.mod sqlc
TEMPORAL := $(GO) tool -modfile=tools/temporal.mod temporal

.PHONY: run test check generate sqlc-check vet fmt-check build temporal fuzz fuzz-short bench bench-smoke

## run: the whole platform on this machine (Temporal, PostgreSQL, every service, the worker)
run:
	$(GO) run ./cmd/delivery dev

## test: everything CI checks (PostgreSQL is found or started; Temporal is started by the tests)
# (the short fuzz run goes first, so that go test's summary closes the output)
test: fmt-check vet sqlc-check fuzz-short
	@url=$$(scripts/ensure-postgres.sh) && \
	  DATABASE_URL="$$url" TEST_DATABASE_URL="$$url" $(GO) test -count=1 -timeout 20m ./...

## test-faults: the fault scenarios of faults/ at the full sizes of issue 5 (figures in RELIABILITY.md);
## the short versions run in test. FAULTS_LOGS=<dir> keeps every process's log.
.PHONY: test-faults
test-faults:
	@url=$$(scripts/ensure-postgres.sh) && \
	  DATABASE_URL="$$url" TEST_DATABASE_URL="$$url" FAULTS=long $(GO) test -count=1 -v -timeout 45m ./faults

## fuzz-short: every Go fuzz target for FUZZTIME_SHORT (default 5000x: after replaying its corpus, 5000 new inputs) each: part of test
fuzz-short:
	@GO="$(GO)" scripts/fuzz.sh $(or $(FUZZTIME_SHORT),5000x)

## fuzz: every Go fuzz target for FUZZTIME (default 1m) each, with the executions of each (RELIABILITY.md)
fuzz:
	@GO="$(GO)" scripts/fuzz.sh $(or $(FUZZTIME),1m)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '/db/')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) tool -modfile=tools/workflowcheck.mod workflowcheck ./workflows/...

sqlc-check:
	@url=$$(scripts/ensure-postgres.sh) && DATABASE_URL="$$url" scripts/sqlc-check.sh

## generate: regenerate the sqlc code after changing queries/ or migrations
generate:
	$(SQLC) generate

build:
	$(GO) build -o bin/delivery ./cmd/delivery

## bench: the table of BENCHMARKS.md (about 3 minutes on 2 cores; loopback only, cleans up)
bench:
	@url=$$(scripts/ensure-postgres.sh) && DATABASE_URL="$$url" $(GO) run ./bench

## bench-smoke: the same harness in a few seconds (only shows that it runs)
bench-smoke:
	@url=$$(scripts/ensure-postgres.sh) && DATABASE_URL="$$url" $(GO) run ./bench -smoke

## temporal: the pinned temporal CLI, e.g. make temporal ARGS="workflow list"
temporal:
	@$(TEMPORAL) $(ARGS)
