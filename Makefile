# minerwatch — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATE   ?=
export AIRFLOW_HOME ?= $(CURDIR)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER ?= $(CURDIR)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER ?= $(CURDIR)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES ?= False
export AIRFLOW__CORE__PARALLELISM ?= 4
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN ?= sqlite:///$(AIRFLOW_HOME)/airflow.db

.PHONY: help setup demo demo-real run test test-unit test-deps lint format bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: ## create .venv, install pinned dependencies, prepare Airflow (SQLite) and dbt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/minerwatch setup-airflow
	cd dbt_project && MINERWATCH_WAREHOUSE=$(CURDIR)/data/warehouse.duckdb MINERWATCH_LAKE_ROOT=$(CURDIR)/data/lake \
		DBT_PROFILES_DIR=. ../$(BIN)/dbt parse --quiet
	@echo "setup done: try 'make demo'"

demo: ## run the daily DAG offline on SAMPLE data via the replay server (DATE=YYYY-MM-DD, default yesterday)
	$(BIN)/minerwatch demo $(if $(DATE),--date $(DATE))

demo-real: ## the demo on the REAL network history (../shared/refdata: Coin Metrics since genesis, mempool retargets) to 2024-05-31; market/SEC still SAMPLE
	$(BIN)/minerwatch demo --real-network $(if $(DATE),--date $(DATE))

run: ## run the daily DAG against the live sources (DATE=YYYY-MM-DD, default yesterday)
	$(BIN)/minerwatch run $(if $(DATE),--date $(DATE))

test: ## the whole test suite (what CI runs; `make test-deps` first for the servers it starts): ~10 min
	$(BIN)/pytest -q -n 2 -m fast
	$(BIN)/pytest -q -n 2 --dist loadfile -m "not fast"

test-unit: ## the fast tests (no Airflow run, dbt build or server) on two workers: under a minute
	$(BIN)/pytest -q -n 2 -m fast

test-deps: ## install the Debian packages the integration tests start (PostgreSQL, Chromium); as root
	@if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
		echo "run as root on Debian/Ubuntu, or install postgresql and chromium yourself"; \
	elif command -v chromium >/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
		echo "test dependencies present"; \
	else \
		DEBIAN_FRONTEND=noninteractive apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql chromium; \
	fi

lint: ## ruff (check + format check), SQLFluff on the dbt SQL, yamllint on all YAML
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project --processes 0
	$(BIN)/yamllint --strict .

format: ## apply ruff's fixes and formatting and SQLFluff's fixes (review the diff)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIN)/sqlfluff fix dbt_project --processes 0

bench: ## the benchmark, 5 runs at 1x and 10x (bench/README.md); BENCH_ARGS=--quick for one quick run
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean: ## remove the local lake, warehouse, Airflow home and dbt target (not .venv)
	rm -rf data .airflow dbt_project/target dbt_project/logs
