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

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run test bench clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -r requirements-dev.txt
	touch $(STAMP)

run: install
	HOST=$(HOST) PORT=$(PORT) $(PY) -m app serve

test: install
	$(PY) -m pytest -q

bench: install
	$(PY) bench/sse_engine.py

clean:
	rm -rf $(VENV) data
