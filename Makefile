# Every target sets up .venv first, so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: run test check stress bench migrate clean compat

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
	$(BIN)/ruff check src tests benchmarks compat
	$(BIN)/ruff format --check src tests benchmarks compat
	$(BIN)/mypy

stress: $(STAMP)
	PXM_STRESS=1 $(BIN)/pytest -q -s tests/integration/test_worker_processes.py tests/integration/test_webhook_processes.py tests/integration/test_database_restart.py

# Only the benchmarks need the peer queue they are measured against; `make test` does not.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	PYTHONPATH=. $(BIN)/python -m benchmarks
	PYTHONPATH=. $(BIN)/python -m benchmarks.throughput --rounds 3
	PYTHONPATH=. $(BIN)/python -m benchmarks.real_jobs --rounds 3

# Elastic Path's published JavaScript SDK against a live service; `make test` never needs it.
# PIM_YAML, when set, is an OpenAPI document whose request examples are replayed too.
COMPAT_DIR := build/compat
compat: $(STAMP)
	mkdir -p $(COMPAT_DIR)
	cp compat/package.json $(COMPAT_DIR)/package.json
	cd $(COMPAT_DIR) && npm install --no-audit --no-fund --loglevel=error
	PYTHONPATH=. $(BIN)/python -m compat.run $(if $(PIM_YAML),--examples $(PIM_YAML))

clean:
	rm -rf $(VENV) pxm-jobs.db pxm-jobs.db-wal pxm-jobs.db-shm
