# nightfeed: `make demo` runs the nightly pipeline on the embedded synthetic platform,
# `make test` runs every test. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DS ?= 2026-11-25
DEMO_FROM ?= $(shell $(PYTHON) -c "import datetime as d; print(d.date.fromisoformat('$(DS)') - d.timedelta(days=2))")
# The demo's lake: ./lakehouse, or LAKE=... on the command line (never the shell's NIGHTFEED_LAKE,
# which may point at a real lake).
LAKE := $(CURDIR)/lakehouse
export NIGHTFEED_LAKE := $(LAKE)
export OPENBLAS_NUM_THREADS ?= 1
export SPARK_LOCAL_IP ?= 127.0.0.1
export GX_ANALYTICS_ENABLED ?= False

.PHONY: install install-airflow demo test test-fast lint bench clean cluster-up cluster-down dist config-docs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools wheel

$(STAMP): $(BIN)/python setup.cfg pyproject.toml lib/nightfeed/runtime/spark.py lib/nightfeed/runtime/venv_spark.py lib/nightfeed/runtime/jvm_warmup.py lib/nightfeed/runtime/logs.py
	$(BIN)/pip install --quiet -e ".[dev]"
	$(BIN)/nightfeed setup-spark
	touch $@

## install: create .venv with the project and its dev extra; configure the venv's Spark (Delta jars)
install: $(STAMP)

$(VENV)/.installed-airflow: $(STAMP)
	$(BIN)/pip install --quiet -e ".[dev,airflow]"
	touch $@

## install-airflow: also the airflow extra (Airflow 3 + Spark provider), needed by the DAG tests
install-airflow: $(VENV)/.installed-airflow

## demo: synthetic platform -> the last three nights for every region in conf/ -> summary, morning report
demo: install
	$(BIN)/nightfeed run --all-regions --from $(DEMO_FROM) --to $(DS) --generate --summary

## lint: ruff lint and format check (configured in pyproject.toml)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## test: lint, then the whole suite (unit, end-to-end jobs, Airflow DAGs, cluster)
test: install-airflow lint
	$(BIN)/python -m pytest -q -p no:warnings -n 2 --dist loadgroup --durations=25

## test-fast: lint, then the unit tests only (no end-to-end, DAG or cluster tests)
test-fast: install lint
	$(BIN)/python -m pytest -q -p no:warnings -m "not e2e and not airflow and not cluster" --durations=10

## bench: benchmarks, JSON written under bench/results/
bench: install
	$(BIN)/python bench/run.py --output-dir bench/results

## cluster-up / cluster-down: Spark standalone master + two workers on 127.0.0.1:7077 (PIDs in .cluster/)
cluster-up: install
	$(BIN)/nightfeed cluster up

cluster-down:
	$(BIN)/nightfeed cluster down

## config-docs: the packaged TOML's [defaults] block and docs/configuration.md, from lib/nightfeed/configuration/settings.py
config-docs: install
	$(BIN)/python -m nightfeed.configuration.reference

## dist: build/nightfeed.zip for spark-submit --py-files
dist: install
	$(BIN)/nightfeed cluster package

clean:
	rm -rf lakehouse bench/results .pytest_cache
