# Every target sets up .venv first, so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: run test check stress bench migrate clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/pxm-jobs serve

migrate: $(STAMP)
	$(BIN)/pxm-jobs migrate

test: $(STAMP)
	$(BIN)/pytest -q

check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

stress: $(STAMP)
	PXM_STRESS=1 $(BIN)/pytest -q -s tests/integration/test_worker_processes.py tests/acceptance/test_token_flood.py

# Only the benchmarks need the peer queue they are measured against; `make test` does not.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	PYTHONPATH=. $(BIN)/python -m benchmarks
	PYTHONPATH=. $(BIN)/python -m benchmarks.throughput --rounds 3

clean:
	rm -rf $(VENV) pxm-jobs.db pxm-jobs.db-wal pxm-jobs.db-shm
