# Every target sets up .venv first, so a fresh clone needs only Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
E2E_STAMP := $(VENV)/.e2e-installed
# The browser the page tests drive: Debian's Chromium, never a download of Playwright's own.
CHROMIUM ?= /usr/bin/chromium
PEERS := benchmarks/peers
PEERS_STAMP := $(PEERS)/node_modules/.installed

.PHONY: run test check stress bench migrate e2e clean compat

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/pxm-jobs serve

migrate: $(STAMP)
	$(BIN)/pxm-jobs migrate

# The suite runs in two processes (pytest-xdist): each has its own PostgreSQL database and
# SQLite files, and the two cores every supported machine has are both used.
TEST_WORKERS ?= 2

test: $(STAMP)
	$(BIN)/pytest -q -n $(TEST_WORKERS)

check: $(STAMP)
	$(BIN)/ruff check src tests benchmarks compat
	$(BIN)/ruff format --check src tests benchmarks compat
	$(BIN)/mypy

stress: $(STAMP)
	PXM_STRESS=1 $(BIN)/pytest -q -s tests/integration/test_worker_processes.py tests/integration/test_webhook_processes.py tests/acceptance/test_token_flood.py tests/integration/test_database_restart.py
	PXM_CONTRACT_EXAMPLES=100 $(BIN)/pytest -q -n $(TEST_WORKERS) tests/acceptance/test_api_contract.py

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
	PYTHONPATH=. $(BIN)/python -m benchmarks.real_jobs --rounds 3

# Elastic Path's published JavaScript SDK against a live service; `make test` never needs it.
# PIM_YAML, when set, is an OpenAPI document whose request examples are replayed too.
COMPAT_DIR := build/compat
compat: $(STAMP)
	mkdir -p $(COMPAT_DIR)
	cp compat/package.json $(COMPAT_DIR)/package.json
	cd $(COMPAT_DIR) && npm install --no-audit --no-fund --loglevel=error
	PYTHONPATH=. $(BIN)/python -m compat.run $(if $(PIM_YAML),--examples $(PIM_YAML))

# The jobs pages in a real browser, on SQLite and PostgreSQL; screenshots in build/screenshots/.
$(E2E_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,e2e]'
	touch $(E2E_STAMP)

e2e: $(E2E_STAMP)
	test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	PXM_E2E=1 PXM_CHROMIUM=$(CHROMIUM) $(BIN)/pytest -q tests/e2e

clean:
	rm -rf $(VENV) build $(PEERS)/node_modules pxm-jobs.db pxm-jobs.db-wal pxm-jobs.db-shm
