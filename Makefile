# Every target sets up .venv first, so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
PEERS := benchmarks/peers
PEERS_STAMP := $(PEERS)/node_modules/.installed

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
	PXM_STRESS=1 $(BIN)/pytest -q -s tests/integration/test_worker_processes.py

# Only the benchmarks need the peer queues they are measured against; `make test` does not.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# The Node peers, with the Node 22 they need, from the folder's lock file.
$(PEERS_STAMP): $(PEERS)/package-lock.json
	cd $(PEERS) && npm ci --no-audit --no-fund --loglevel=error
	touch $(PEERS_STAMP)

bench: $(BENCH_STAMP) $(PEERS_STAMP)
	PYTHONPATH=. $(BIN)/python -m benchmarks
	PYTHONPATH=. $(BIN)/python -m benchmarks.throughput --rounds 3

clean:
	rm -rf $(VENV) $(PEERS)/node_modules pxm-jobs.db pxm-jobs.db-wal pxm-jobs.db-shm
