# UdaConnect: two commands set up a fresh machine.
#   make up     run the whole system locally (installs what is missing first)
#   make test   run every test (lint, types, unit, integration against real PostgreSQL+PostGIS and Kafka)

SHELL := /bin/bash
# uv from PATH, or the one bootstrap.sh installed with pip when PATH does not reach it.
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: up test setup lint unit integration proto clean-run

setup:
	scripts/bootstrap.sh
	$(UV) sync --locked

up: setup
	$(UV) run --locked udaconnect-up

test: setup lint
	$(UV) run --locked pytest

lint:
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .
	$(UV) run --locked mypy

unit: setup
	$(UV) run --locked pytest tests/unit

integration: setup
	$(UV) run --locked pytest tests/integration

# Regenerate the Python code of proto/ (a test fails when it is stale).
proto:
	scripts/gen-proto.sh

# Forget the local run's data (PostgreSQL, Kafka) and logs.
clean-run:
	rm -rf .run

# Connection and ingest speed against the legacy algorithm and COPY, as ratios; writes docs/benchmarks.md and
# ends with one `TARGET <name>: <measured> (goal <goal>) PASS|MISS` line per target. Under 15 minutes on 2 cores;
# `make bench SIZE=quick` for a run of a few minutes while developing.
.PHONY: bench
bench: setup
	tools/bench/setup.sh
	$(UV) run --locked udaconnect-bench --size $(or $(SIZE),full)
