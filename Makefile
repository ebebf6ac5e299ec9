# Jianghu: `make dev` runs the local stack, `make test` runs the whole suite.
# Both create .venv and install what they need on a fresh machine with Python 3.11.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: dev test test-fast lint bench docs deploy package clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/python -c "import chalice, pynamodb, moto, pytest, mypy" 
	@touch $(STAMP)

# `make dev DEMO=1` also loads the demo data set; `make dev STREAM_CHAOS=1` delivers every stream record twice.
# PORT (8000) and MOTO_PORT (5001) move the API and the embedded AWS. Ctrl-C stops it all.
dev: $(STAMP)
	$(BIN)/python -m chalicelib.local.stack

# The whole suite, then the end-to-end suite once more with every stream record delivered at least
# twice and batches split at random: the same assertions must hold (every stream effect idempotent).
test: $(STAMP)
	$(BIN)/ruff check app.py chalicelib tests infra bench
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest -n 2 --dist loadgroup
	STREAM_CHAOS=1 $(BIN)/python -m pytest -m "e2e and not fuzz" -p no:xdist -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 -m "not e2e and not slow"

# bench/results.json and the table in bench/README.md (see bench/README.md); the zip part downloads wheels.
bench: $(STAMP)
	$(BIN)/python -m bench.run

# docs/api.md: the route-by-route table of /openapi.json (a test fails when it is not current).
docs: $(STAMP)
	$(BIN)/python -m chalicelib.openapi docs/api.md

# mypy checks what pyproject.toml's [tool.mypy] names: strict on chalicelib/domain/, lenient elsewhere.
lint: $(STAMP)
	$(BIN)/ruff check app.py chalicelib tests infra bench
	$(BIN)/python -m mypy

# Ops: deploy a stage to the AWS account of your credentials (see README, "Deploying to AWS").
STAGE ?= dev
deploy: $(STAMP)
	$(BIN)/python -m infra.deploy --stage $(STAGE)

# `chalice package` + post-processing + cfn-lint into build/$(STAGE); PLACEHOLDERS=1 works offline.
package: $(STAMP)
	$(BIN)/python -m infra.deploy --stage $(STAGE) --package-only $(if $(PLACEHOLDERS),--placeholders,)

clean:
	rm -rf $(VENV) .local
