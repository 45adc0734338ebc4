PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: serve test test-fast lint format check clean bench

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# `make serve HOST=0.0.0.0 PORT=9000` binds elsewhere (given on the command line: the
# HOST some shells export holds the machine's name, not an address to bind).
HOST := 127.0.0.1
PORT := 8000

serve: $(STAMP)
	$(BIN)/ruleengine serve --rules rules --host $(HOST) --port $(PORT)

# Everything, as CI runs it (.ci/run): lint, format, types, layers, rules, every test.
test: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/ruleengine check rules
	$(BIN)/pytest

# The development loop: the same checks, without the fuzz and live tests, and property
# tests at a tenth of their examples (hypothesis profile `dev`; docs/architecture.md).
test-fast: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy src
	$(BIN)/lint-imports
	$(BIN)/ruleengine check rules
	HYPOTHESIS_PROFILE=dev $(BIN)/pytest -m "not fuzz and not live and not browser"

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/mypy src
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

check: $(STAMP)
	$(BIN)/ruleengine check rules

# Peer engines are the `bench` extra; the OPA Go binding declares Python >= 3.14 but is a
# pure ctypes wheel that runs on 3.11, so it is installed without its metadata checks.
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/pip install --quiet --no-deps --ignore-requires-python opa-golib-python-bindings==0.4.4
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV)
