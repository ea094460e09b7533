# Two commands on a fresh machine: `make lab` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUNTIME_STAMP := $(VENV)/.installed-runtime
GITHUB_STAMP := $(VENV)/github/.installed
PIP_INSTALL := $(BIN)/python -m pip install -q --disable-pip-version-check
UV_INSTALL := $(BIN)/uv pip install -q --python $(BIN)/python
APT_PACKAGES := git iproute2 iputils-ping iperf3 openssh-server openssh-client chromium curl jq prometheus prometheus-alertmanager python3-prometheus-client

.PHONY: help setup setup-runtime lock update-github-descriptions system-packages lab lab-down lab-monitoring monitor docs-images check test pytest e2e molecule lint github-lint bench clean

help: ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

# The workflows' jobs that take the development set run no tests: they skip GitHub's descriptions (GITHUB_DESCRIPTIONS=no).
GITHUB_DESCRIPTIONS ?= yes
setup: system-packages $(STAMP) $(if $(filter no,$(GITHUB_DESCRIPTIONS)),,$(GITHUB_STAMP)) ## install Debian packages (if missing) and .venv: the runtime set, the development tools, GitHub's descriptions

setup-runtime: system-packages $(RUNTIME_STAMP) ## the same with the runtime set only (requirements/runtime.txt): the production runner

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi

# Every package comes from the lock files with its sha256 (hash-checking mode); the package itself,
# a local folder that cannot be hashed, is installed on top without dependencies. The development
# set goes in with uv (itself from requirements/lock-tool.txt, with pip's --require-hashes): the
# same lock files and hashes, from uv's package cache in about a second where pip takes 20-30 s.
# Every job of the workflows starts with make setup in a new folder, so this is most of its time;
# the venv itself is not cached: its scripts and the editable install name the folder it was made in.
$(STAMP): requirements/runtime.txt requirements/dev.txt requirements/lock-tool.txt pyproject.toml
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --require-hashes -r requirements/lock-tool.txt
	$(UV_INSTALL) --require-hashes -r requirements/runtime.txt -r requirements/dev.txt
	$(UV_INSTALL) --no-deps --no-build-isolation -e .
	rm -f $(RUNTIME_STAMP)
	touch $@

# GitHub's REST and webhook descriptions (tests/githubcontract.py), pinned with their sha512 in
# requirements/github/package-lock.json, which names no registry: npm ci checks each tarball against
# it. Only api.github.com's two files are read; the rest of the packages (GHES, GHEC, dereferenced
# copies: about 400 MB) is removed.
$(GITHUB_STAMP): requirements/github/package.json requirements/github/package-lock.json
	command -v npm >/dev/null || $(MAKE) --no-print-directory system-packages APT_PACKAGES=npm
	rm -rf $(VENV)/github && mkdir -p $(VENV)/github
	cp requirements/github/package.json requirements/github/package-lock.json $(VENV)/github/
	cd $(VENV)/github && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	find $(VENV)/github/node_modules/@octokit -path '*/generated/*.json' ! -name api.github.com.json -delete
	touch $@

update-github-descriptions: ## take the newest releases of GitHub's REST and webhook descriptions (requirements/github), then make test
	cd requirements/github && npm install --package-lock-only --omit-lockfile-registry-resolved --ignore-scripts --no-audit --no-fund \
	  --save-exact @octokit/openapi@latest @octokit/openapi-webhooks@latest

# The runtime set only: a venv that holds the development tools is made anew, so none is left over.
# Installed with uv too (the same hashes), which takes 2-3 s of the apply job where pip took 15 s.
$(RUNTIME_STAMP): requirements/runtime.txt requirements/lock-tool.txt pyproject.toml
	if [ -e $(STAMP) ]; then echo "$(VENV) holds the development tools: making it anew"; rm -rf $(VENV); fi
	[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) --require-hashes -r requirements/lock-tool.txt
	$(UV_INSTALL) --require-hashes -r requirements/runtime.txt
	$(UV_INSTALL) --no-deps --no-build-isolation -e .
	touch $@

# uv (itself hash-locked in requirements/lock-tool.txt) in a throwaway venv resolves each .in for
# Python 3.11 on Linux x86_64; versions already in a .txt are kept unless UPGRADE=1. runtime.txt
# goes first: dev.in holds the runtime set at its versions.
lock: ## resolve requirements/*.in into the hash-locked requirements/*.txt (UPGRADE=1 takes newer releases)
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install -q --disable-pip-version-check --require-hashes -r requirements/lock-tool.txt; \
	for name in lock-tool runtime dev; do \
	  UV_CACHE_DIR="$$tmp/cache" "$$tmp/venv/bin/uv" pip compile --quiet --no-config --generate-hashes \
	    --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --custom-compile-command "make lock" \
	    $(if $(UPGRADE),--upgrade) --output-file requirements/$$name.txt requirements/$$name.in; \
	done

lab: setup ## the main job on the built-in lab: check, lab up, apply, verify (measured), report
	mkdir -p reports
	$(BIN)/bandwidth check --summary reports/availability.md
	$(BIN)/bandwidth lab up
	$(BIN)/ansible-playbook -i lab/inventory playbooks/apply.yml
	$(BIN)/ansible-playbook -i lab/inventory playbooks/verify.yml
	@echo "lab shaped and verified; report and availability list (daftar-kesediaan.html): reports/latest/; availability form: reports/availability.md; 'bandwidth lab down' removes the lab"

lab-monitoring: setup ## after make lab: the collectors in the lab gateways, Prometheus and Alertmanager on 198.19.255.1 (bandwidth lab monitoring)
	@$(BIN)/bandwidth lab status >/dev/null || { echo "no lab up: run 'make lab' first"; exit 1; }
	$(BIN)/bandwidth lab monitoring

monitor: setup ## the Laporan Monitoring Bandwidth on the lab (after make lab): reports/monitoring/latest/
	@$(BIN)/bandwidth lab status >/dev/null || { echo "no lab up: run 'make lab' first"; exit 1; }
	$(BIN)/ansible-playbook -i lab/inventory playbooks/monitor.yml -e bandwidth_monitor_duration_seconds=$(or $(MONITOR_SECONDS),60)

docs-images: lab monitor ## the pictures of the guides (docs/gambar/*.png) from this run on the lab: Chromium and LibreOffice
	$(MAKE) --no-print-directory system-packages APT_PACKAGES="chromium libreoffice-writer-nogui poppler-utils"
	$(BIN)/python docs/gambar/render.py

lab-down: setup ## remove the lab (namespaces, processes, links)
	$(BIN)/bandwidth lab down

check: setup ## bandwidth check on the repository's own allocations
	$(BIN)/bandwidth check

test: setup lint pytest e2e molecule ## everything the project checks

lint: setup github-lint
	$(BIN)/ruff check scripts tests bench roles docs
	$(BIN)/ruff format --check scripts tests bench roles docs
	$(BIN)/lint-imports --no-cache  # the layers and no cycles of scripts/bandwidth (pyproject.toml)
	$(BIN)/yamllint --strict .
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/ansible-lint

github-lint: setup ## workflows and issue form: actionlint, zizmor (no findings), GitHub's JSON Schemas
	$(BIN)/actionlint
	$(BIN)/zizmor --offline --no-progress .github/workflows
	$(BIN)/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-issue-forms .github/ISSUE_TEMPLATE/*-bandwidth.yml
	$(BIN)/check-jsonschema --builtin-schema vendor.github-issue-config .github/ISSUE_TEMPLATE/config.yml

pytest: setup
	@# The tests build labs of their own with the same namespace names: the repo's lab goes first.
	@$(BIN)/bandwidth lab down >/dev/null 2>&1 || true
	$(BIN)/pytest -q -n 2 -m "not e2e and not lab"  # on both cores: none of these measures anything
	$(BIN)/pytest -q -m "lab and not e2e"  # one at a time, with nothing else running: they measure rates

e2e: setup ## the workflow files end to end with act against a local fake GitHub and, for the gateways' jobs, the lab
	@# Scenarios 4, 6 and 7 build a lab of their own with the same namespace names: the repo's lab goes first.
	@$(BIN)/bandwidth lab down >/dev/null 2>&1 || true
	$(BIN)/pytest -q -n 2 -m "e2e and not lab"
	$(BIN)/pytest -q -m "e2e and lab"

molecule: setup ## the role's molecule scenario on the lab (create, converge, idempotence, verify, destroy)
	@# molecule links the lab's inventory before its create step runs: the lab comes up first.
	$(BIN)/bandwidth lab up >/dev/null
	cd roles/bandwidth && PATH="$(CURDIR)/$(BIN):$$PATH" molecule test

bench: setup ## benchmarks (not part of make test)
	$(BIN)/python bench/check_bench.py
	$(BIN)/python bench/apply_bench.py
	$(BIN)/python bench/audit_bench.py
	$(BIN)/python bench/verify_bench.py
	$(BIN)/python bench/verify_stability.py
	$(BIN)/python bench/lead_time_bench.py
	$(BIN)/python bench/exporter_bench.py

clean: ## remove the venv and generated files
	rm -rf $(VENV) reports bench/out .pytest_cache .ruff_cache
