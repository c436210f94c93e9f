# The two everyday commands: `make run` (start the whole portal on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test venv lint format bench bench-large bench-load bench-screens clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: venv
	./scripts/run.sh

test: venv
	./scripts/test.sh

lint: venv
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

bench: venv
	$(BIN)/python -m bench.sync_bench

bench-large: venv  # 50,000 clients and 125,000 sites: does the cost grow linearly? (not run in CI)
	$(BIN)/python -m bench.sync_bench --large --no-tracemalloc

bench-load: venv  # the portal under gunicorn, idle and during a writing sync (not run in CI)
	$(BIN)/python -m bench.load_test

bench-screens: venv  # every staff screen at 10,000 and 100,000 customers (not run in CI)
	$(BIN)/python -m bench.screens_bench

clean:
	rm -rf var/broker var/test-broker-* var/test-portal-*.sqlite3* test-artifacts
