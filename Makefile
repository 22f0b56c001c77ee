# Dovecote: every target bootstraps what it needs (venv, pip, the pinned CDK CLI).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= standard
PYTEST_ARGS ?=
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export AWS_DEFAULT_REGION ?= us-east-1

PY_STAMP := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
NODE_STAMP := node_modules/.installed

.PHONY: setup test test-fast lint synth deploy local bench openapi screenshots clean

setup: $(PY_STAMP) $(NODE_STAMP) $(CHROMIUM)

$(PY_STAMP): pyproject.toml clients/python/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e clients/python -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# tests/browser drive Debian's Chromium (Playwright's own browser download is never used).
$(CHROMIUM):
	$(if $(filter 0,$(shell id -u)),,sudo) apt-get update
	DEBIAN_FRONTEND=noninteractive $(if $(filter 0,$(shell id -u)),,sudo) apt-get install -y chromium

test: setup
	$(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -n 2 -m 'not slow' tests/unit tests/integration $(PYTEST_ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

synth: setup
	npx cdk synth --no-notices --quiet -c profile=$(PROFILE) $(CDK_ARGS)
	@echo "cdk.out/Dovecote.template.json written for profile $(PROFILE)"

deploy: setup
	npx cdk deploy --no-notices -c profile=$(PROFILE) $(CDK_ARGS)

local: setup
	$(BIN)/dovecote local --profile $(PROFILE) $(LOCAL_ARGS)

openapi: setup
	$(BIN)/python -m functions.management.openapi > docs/openapi.json

screenshots: setup
	DOVECOTE_SCREENSHOTS=docs/portal $(BIN)/python -m pytest -p no:cacheprovider tests/browser

bench: setup
	$(BIN)/python -m bench.run_all

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
