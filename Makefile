# Two entry points for a fresh machine with only Python 3.11+: `make run` and `make test`.
# Each bootstraps .venv from pyproject.toml at the versions requirements.lock pins (re-installed when
# either changes); `make lock` refreshes the lock (README, "Dependencies").
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed
LOCK := requirements.lock
LOCK_VENV := build/lock-venv

AUDIT_VENV := .venv-audit
PIP_AUDIT := pip-audit==2.10.1

.PHONY: run test perf perf-deps lint lock proto audit clean

# the lock is a constraints file: it pins every package it names, and pip still resolves from pyproject.toml
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -c $(LOCK) -e '.[test,perf]'
	touch $(STAMP)

# every package a fresh install of the project with all its extras resolves to today, at its exact version
lock:
	rm -rf $(LOCK_VENV)
	$(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install -q --upgrade pip
	$(LOCK_VENV)/bin/python -m pip install -q -e '.[test,perf,dev]'
	{ echo "# make lock: pip freeze of a fresh venv with .[test,perf,dev] ($$($(LOCK_VENV)/bin/python -V), $$(uname -m))"; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable; } > $(LOCK)
	rm -rf $(LOCK_VENV)

run: $(STAMP)
	$(VENV)/bin/engined serve

# coverage is measured in every engine process (see [tool.coverage.run]); under 90 % fails the target
test: $(STAMP)
	rm -f .coverage .coverage.*
	COVERAGE_FILE=$(CURDIR)/.coverage $(VENV)/bin/coverage run -m pytest $(PYTEST_ARGS)
	@COVERAGE_FILE=$(CURDIR)/.coverage $(VENV)/bin/coverage combine -q
	@COVERAGE_FILE=$(CURDIR)/.coverage $(VENV)/bin/coverage report

perf: $(STAMP)
	$(VENV)/bin/python -m perf.engine
	$(VENV)/bin/python -m perf.frontend

# wrk drives the HTTP benchmarks (perf/frontend.py falls back to a Python load generator without it)
perf-deps:
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)

lint: $(STAMP)
	$(VENV)/bin/python -m pip install -q -c $(LOCK) ruff mypy
	$(VENV)/bin/ruff format --check .
	! git grep -n -e 'fmt: skip' -e 'fmt: off' -- '*.py' ':!frontends/_gen'  # the formatter owns the layout of lines
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy engine ipc frontends perf tools tests

proto: $(STAMP)
	$(VENV)/bin/python -m tools.gen_proto

# known vulnerabilities in the resolved dependencies (tools/audit.py, docs/SECURITY.md): pip-audit lives
# in a venv of its own so that it audits our packages, not its own
$(AUDIT_VENV)/.installed:
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install -q '$(PIP_AUDIT)'
	touch $@

audit: $(STAMP) $(AUDIT_VENV)/.installed
	$(VENV)/bin/python -m tools.audit --pip-audit $(AUDIT_VENV)/bin/pip-audit --requirements $(LOCK)

clean:
	rm -rf $(VENV) $(AUDIT_VENV) build *.egg-info .pytest_cache
