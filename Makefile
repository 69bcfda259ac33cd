# Sandscan. `make run` and `make test` set up everything they need on a
# fresh machine (containerd, runsc, sample images) through `sandscan setup`.

GO        ?= go
STATE_DIR ?= /var/lib/sandscan
BIN       := bin/sandscan
export SANDSCAN_STATE_DIR := $(STATE_DIR)
# golearn bundles C code (liblinear), so the binary builds with cgo.
export CGO_ENABLED := 1

IMAGES := $(wildcard testdata/images/*.tar)

.PHONY: all build setup testdata run test bench eval models corpus clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) ./cmd/sandscan

setup: build
	$(BIN) setup

testdata:
	$(GO) run ./testdata/build -out testdata/images

# The main job: analyze every sample image, one line each. Exit codes 1
# and 2 are verdicts (suspicious, malicious), not failures.
run: setup testdata
	@$(BIN) analyze --format summary testdata/images/*.tar; rc=$$?; [ $$rc -lt 3 ]

# Everything, including the tests that run the real sandbox (root).
# Go's ./... skips testdata/, so its packages are named.
TESTDATA_PKGS := ./testdata/build ./testdata/behaviours/internal/guard

test: setup testdata
	$(GO) vet ./... $(TESTDATA_PKGS)
	$(GO) test -count=1 -timeout 60m ./... $(TESTDATA_PKGS)

# Benchmarks, then a table with each one's ratio against the baseline
# measured beside it in the same run.
bench: setup testdata
	$(GO) test -run '^$$' -bench . -benchmem -count=1 -timeout 30m ./... | tee bench.out
	$(GO) run ./internal/tools/benchtable < bench.out

# The evaluation corpus (Atomic Red Team tests and benign controls,
# ../shared/eval) detonated and scored: a benchmark, not a test. Writes
# eval/RESULTS.md and eval/results.json; EVAL_FLAGS=-rescore re-scores the
# saved runs without detonating.
EVAL_CORPUS ?= ../shared/eval
eval: setup
	$(GO) run ./internal/tools/eval -corpus $(EVAL_CORPUS) $(EVAL_FLAGS)

# Retrain the model from the committed corpus of labelled runs and
# regenerate its evaluation on the held-out families.
models: build
	$(BIN) train --eval-out models/EVAL.md models/corpus

# Re-detonate the training corpus (root, about 20 minutes), then `make models`.
corpus: setup
	$(GO) run ./internal/tools/corpus -out models/corpus

clean:
	rm -rf bin testdata/images
