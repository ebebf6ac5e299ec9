# Jianghu: `make dev` runs the local stack, `make test` runs the whole suite.
# Both create .venv and install what they need on a fresh machine with Python 3.11.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: dev test test-fast lint bench deploy clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import chalice, pynamodb, moto, pytest" 
	@touch $(STAMP)

dev: $(STAMP)
	$(BIN)/python -m chalicelib.local.stack

test: $(STAMP)
	$(BIN)/ruff check app.py chalicelib tests infra
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not e2e and not slow"

lint: $(STAMP)
	$(BIN)/ruff check app.py chalicelib tests infra

clean:
	rm -rf $(VENV) .local
