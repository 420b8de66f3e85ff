# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export TF_ENABLE_ONEDNN_OPTS := 0
export TF_CPP_MIN_LOG_LEVEL := 2

.PHONY: demo test fuzz bench lint clean serve

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(PIP) install --quiet -e '.[web]'
	touch $@

# the browser test drives Debian's chromium (never a downloaded browser)
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get install -y --no-install-recommends chromium || (apt-get update && apt-get install -y --no-install-recommends chromium)

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml | $(CHROMIUM)
	$(PIP) install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/seed.py

test: $(VENV)/.test-installed
	$(PY) -m ruff check src tests benchmarks examples
	$(PY) -m pytest

# The fuzz test of tests/fuzz at length (`make test` runs it bounded to about a minute).
FUZZ_EXAMPLES ?= 30000
fuzz: $(VENV)/.test-installed
	CONVARITH_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz

serve: $(VENV)/.installed
	$(VENV)/bin/convarith serve --open

bench: $(VENV)/.test-installed
	$(PY) benchmarks/run.py

lint: $(VENV)/.test-installed
	$(PY) -m ruff format --check src tests benchmarks examples
	$(PY) -m ruff check src tests benchmarks examples

clean:
	rm -rf $(VENV) build dist .pytest_cache .hypothesis
