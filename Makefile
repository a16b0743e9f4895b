# Two commands set up a fresh machine (Python >= 3.11):
#   make demo   – virtual environment, pinned dependencies, the demo on embedded SQLite
#   make test   – the same plus dev dependencies, a local PostgreSQL and the Telegram Bot API
#                 emulator (npm), then lint and all tests
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test lint install install-dev

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
