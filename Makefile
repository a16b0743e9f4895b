# Two commands set up a fresh machine (Python >= 3.11):
#   make demo   – virtual environment, pinned dependencies, the demo on embedded SQLite
#   make test   – the same plus dev dependencies, a local PostgreSQL and the Telegram Bot API
#                 emulator (npm), then lint and all tests
# Benchmarks (benchmarks/README.md):
#   make bench        – every figure at 10^6 events, the table printed and written to
#                       benchmarks/results.json (20 min on an idle 2-core machine, over an hour
#                       under load; generated stores are cached in benchmarks/.cache/); starts
#                       its own PostgreSQL for figure 8
#   make bench-quick  – every figure at a small scale (about a minute; `make test` runs it too,
#                       as tests/test_benchmarks_quick.py)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test lint install install-dev bench bench-quick

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "RegioTwin needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e .

install-dev: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"

demo: install
	$(BIN)/python run_bot.py

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install-dev lint
	bash scripts/install-emulator.sh
	REGIOTWIN_TEST_DATABASE_URL=$${REGIOTWIN_TEST_DATABASE_URL:-$$(bash scripts/ensure-postgres.sh)} \
		$(BIN)/pytest

bench: install-dev
	$(BIN)/python -m benchmarks

bench-quick: install-dev
	$(BIN)/python -m benchmarks --quick
