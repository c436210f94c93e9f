# The two everyday commands: `make run` (start the whole portal on embedded defaults) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test venv lint format bench bench-screens clean

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

bench-screens: venv
	$(BIN)/python -m bench.screens_bench

clean:
	rm -rf var/broker var/test-broker-* var/test-portal-*.sqlite3* test-artifacts
