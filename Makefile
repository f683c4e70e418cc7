# Two commands set everything up on a fresh machine:
#   make run    install, then serve the demo on $(HOST):$(PORT)
#   make test   install, then the whole suite
# `make install` reinstalls only when a requirements file changed (a stamp file in .venv).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
STAMP  := $(VENV)/.install-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
TORCH  := 2.13.0

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run test bench bench-search clean

install: $(STAMP)

# torch first and pinned: 2.13.0 is the CPU build; left to a dependency's range, pip would
# pull a multi-GB CUDA build.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install torch==$(TORCH)
	$(PIP) install -r requirements-dev.txt torch==$(TORCH)
	touch $(STAMP)

run: install
	HOST=$(HOST) PORT=$(PORT) $(PY) -m app serve

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) bench/sse_engine.py

clean:
	rm -rf $(VENV) data
