# UdaConnect: two commands set up a fresh machine.
#   make up     run the whole system locally (installs what is missing first)
#   make test   run every test (lint, types, unit, integration against real PostgreSQL+PostGIS and Kafka,
#               the front end's unit tests, and its end-to-end tests in headless Chromium)

SHELL := /bin/bash
# uv from PATH, or the one bootstrap.sh installed with pip when PATH does not reach it.
UV = $(shell command -v uv 2>/dev/null || echo python3 -m uv)

.PHONY: up test setup setup-test lint unit integration e2e frontend-test proto api-client clean-run

FRONTEND_DEPS = frontend/node_modules/.package-lock.json

setup:
	scripts/bootstrap.sh
	$(UV) sync --locked
	$(MAKE) --no-print-directory $(FRONTEND_DEPS)

# The front end's packages, exactly as locked; again only when package-lock.json changed.
$(FRONTEND_DEPS): frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

# What only the tests need: Chromium for the end-to-end tests.
setup-test: setup
	scripts/bootstrap.sh --browser

up: setup
	$(UV) run --locked udaconnect-up

test: setup-test lint frontend-test
	$(UV) run --locked pytest

lint: setup
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .
	$(UV) run --locked mypy
	cd frontend && npm run --silent typecheck

# The front end's unit tests (Vitest).
frontend-test: setup
	cd frontend && npm test

e2e: setup-test
	$(UV) run --locked pytest tests/e2e

# The unit tests need no database, JDK or Kafka: only uv and Node.js (the API client's freshness check).
unit:
	scripts/bootstrap.sh --unit
	$(UV) sync --locked
	$(MAKE) --no-print-directory $(FRONTEND_DEPS)
	$(UV) run --locked pytest tests/unit

integration: setup
	$(UV) run --locked pytest tests/integration

# Regenerate the Python code of proto/ (a test fails when it is stale).
proto:
	scripts/gen-proto.sh

# Regenerate the front end's typed API client from the services' OpenAPI documents (a test fails when stale).
api-client: setup
	scripts/gen-api-client.sh

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
	scripts/bootstrap.sh --browser
	$(UV) run --locked udaconnect-bench-frontend
