# GradOps — every task a developer or CI runs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
DATA_DIR ?= .data
STAMP := $(VENV)/.installed-stamp

.PHONY: help install run test fuzz lint fmt typecheck stack-up stack-down infra-up infra-down migrate openapi bench lock clean

help: ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) is required (the project targets Python 3.11)"; exit 1; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install the pinned dependencies

run: $(STAMP) ## the whole suite in one process on SQLite (PORT=8000 DATA_DIR=.data)
	$(BIN)/python -m gradops_suite run --port $(PORT) --data-dir $(DATA_DIR)

test: $(STAMP) lint typecheck infra-up ## everything: lint, types, unit, integration (real Postgres + Kafka), e2e, fuzzing
	$(BIN)/python -m pytest -p no:cacheprovider

FUZZ_TIME ?= 1800

fuzz: $(STAMP) ## schemathesis for FUZZ_TIME seconds (1800) with a random seed, printed (GRADOPS_FUZZ_SEED=… replays)
	GRADOPS_FUZZ_STRICT=1 GRADOPS_FUZZ_MAX_TIME=$(FUZZ_TIME) GRADOPS_FUZZ_EXAMPLES=$${GRADOPS_FUZZ_EXAMPLES:-100} \
	  GRADOPS_FUZZ_SEED=$${GRADOPS_FUZZ_SEED:-random} \
	  $(BIN)/python -m pytest -p no:cacheprovider -s -m fuzz tests/fuzz

lint: $(STAMP) ## ruff lint + format check + import-linter (the layering contracts of docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fmt: $(STAMP) ## ruff fix + format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP) ## mypy (strict)
	$(BIN)/mypy shared gateway services tests

infra-up: ## start PostgreSQL and Kafka on loopback (installs them if missing)
	bash deploy/stack/postgres.sh up
	bash deploy/stack/kafka.sh up

infra-down: ## stop PostgreSQL and Kafka
	-bash deploy/stack/kafka.sh down
	-bash deploy/stack/postgres.sh down

migrate: $(STAMP) ## apply every service's migrations to the real PostgreSQL
	bash deploy/stack/postgres.sh up
	$(BIN)/python -m gradops_suite migrate

stack-up: $(STAMP) infra-up migrate ## the real topology: Postgres, Kafka, every service/relay/consumer and the gateway
	$(BIN)/python -m gradops_suite stack up

stack-down: ## stop the real topology (processes, then Kafka and PostgreSQL)
	-[ -x $(BIN)/python ] && $(BIN)/python -m gradops_suite stack down
	$(MAKE) infra-down

openapi: $(STAMP) ## regenerate openapi/*.json and openapi/events/*.json from the code
	$(BIN)/python -m gradops_suite openapi

BENCHES := registry_import photo_qc photo_import audit_batch certificates_issue gateway_load ops

# The benchmarks run the services in-process on the local PostgreSQL with the development secrets.
bench: export GRADOPS_ALLOW_DEVELOPMENT_SECRETS := 1
bench: $(STAMP) infra-up ## every benchmark (figures printed and written to bench/results/)
	$(BIN)/python bench/run_all.py
	@set -e; for b in $(BENCHES); do echo "== bench/$$b.py"; $(BIN)/python bench/$$b.py; done

lock: ## re-pin requirements.lock from requirements.in
	rm -rf /tmp/gradops-lock && $(PYTHON) -m venv /tmp/gradops-lock
	/tmp/gradops-lock/bin/pip install --quiet -r requirements.in
	/tmp/gradops-lock/bin/pip freeze --exclude-editable | sort -f > requirements.lock

clean: ## remove the virtual environment and local state (not the PostgreSQL cluster)
	rm -rf $(VENV) .stack .data .mypy_cache .ruff_cache
