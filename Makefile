# Two entry points do all set-up on a fresh machine:  `make demo`  and  `make test`  (`make lint`: ruff).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
# torch is pinned here (not in pyproject) so CPU machines take the local CPU wheel, not a CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: install demo lint test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH)" -e ".[dev]"
	touch $@

install: $(VENV)/.installed

demo: install
	HF_HUB_OFFLINE=1 $(VENV)/bin/kan-genomics demo --output-dir kan-genomics-demo

lint: install
	$(VENV)/bin/ruff check .

test: install
	HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 $(PY) -m pytest -q tests

bench: install
	$(PY) scripts/bench_kan_layers.py --threads 1 --output bench_results/kan_layers/bench_kan_layers.json

clean:
	rm -rf $(VENV) kan-genomics-demo
