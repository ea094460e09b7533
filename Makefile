# Two commands on a fresh machine: `make lab` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APT_PACKAGES := git iproute2 iperf3 openssh-server openssh-client

.PHONY: help setup system-packages lab check test pytest lint bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

setup: system-packages $(STAMP) ## install Debian packages (if missing) and the pinned venv (.venv)

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): requirements.txt pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

lab: setup ## the main job on the built-in lab: check the repository's allocations
	mkdir -p reports
	$(BIN)/bandwidth check --summary reports/availability.md
	@echo "availability form: reports/availability.md"

check: setup ## bandwidth check on the repository's own allocations
	$(BIN)/bandwidth check

test: setup lint pytest ## everything the project checks

lint: setup
	$(BIN)/ruff check scripts tests bench
	$(BIN)/ruff format --check scripts tests bench
	$(BIN)/yamllint --strict .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/ansible-lint

pytest: setup
	$(BIN)/pytest -q

bench: setup ## benchmarks (not part of make test)
	$(BIN)/python bench/check_bench.py

clean: ## remove the venv and generated files
	rm -rf $(VENV) reports bench/out .pytest_cache .ruff_cache
